"""The declarations, their demands under their lead-ins, the initiating networks and founders."""
