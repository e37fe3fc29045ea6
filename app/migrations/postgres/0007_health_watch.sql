-- The background health watch. `health_since`: when the connection's health last changed (the
-- banner's "stopped working at"); `health_watch_period`: the last interval the watch claimed for the
-- connection, so that any number of instances ticking together test it once per interval.
ALTER TABLE connections ADD COLUMN health_since BIGINT;
ALTER TABLE connections ADD COLUMN health_watch_period BIGINT;
