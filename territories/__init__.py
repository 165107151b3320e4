"""The official territory referential (communes, EPCI, départements, régions…), its import and
its search."""
