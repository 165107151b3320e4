"""What moderators use: the admin of signatures (queue, decisions, audit trail), flags,
contests and corrections to decide, trending sources and their invalidation, staff exports."""
