package io.raftlog.client.fake;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** A clock tests move by hand; shared by the producer and consumer tests. */
public final class ManualClock extends Clock {
    private long millis;

    public ManualClock() {
        this(1_000_000);
    }

    public ManualClock(long startMillis) {
        this.millis = startMillis;
    }

    public void advance(long ms) {
        millis += ms;
    }

    @Override
    public long millis() {
        return millis;
    }

    @Override
    public Instant instant() {
        return Instant.ofEpochMilli(millis);
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }
}
