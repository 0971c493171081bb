package io.raftlog.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.raftlog.api.v1.Record;
import io.raftlog.client.fake.Await;
import io.raftlog.client.fake.FakeCluster;
import io.raftlog.client.transport.ChannelFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Clients resume as soon as a broker that was down is back, not when gRPC's own reconnect backoff
 * happens to end. After a broker was unreachable for a while, a gRPC channel waits many seconds
 * (1 s, x1.6 per failed attempt, up to 120 s) before it tries to connect again, and fails every
 * call at once meanwhile: the chaos suite saw idempotent producers retry against a leader that had
 * been back for 11-15 s until their delivery timeout expired. Here the channels' timers are
 * postponed by a day, so gRPC alone would never reconnect (both tests fail without the pool's own
 * reconnect backoff); the clients must make it.
 */
@Timeout(30)
class ReconnectAfterOutageTest {
    /** gRPC channel timers (reconnect backoff, deadlines, idleness) fire after a day. */
    static final class PostponedTimers extends ScheduledThreadPoolExecutor {
        PostponedTimers() {
            super(1);
        }

        @Override
        public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
            return super.schedule(command, delay <= 0 ? 0 : TimeUnit.DAYS.toNanos(1), TimeUnit.NANOSECONDS);
        }
    }

    private FakeCluster cluster;
    private final PostponedTimers timers = new PostponedTimers();
    /** Every channel the clients created, by address. */
    private final Map<String, List<ManagedChannel>> channels = new ConcurrentHashMap<>();
    private final List<AutoCloseable> clients = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        cluster = new FakeCluster(3);
        cluster.createTopic("t", 3, 3);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : clients) {
            if (c instanceof Producer<?, ?> p) {
                p.close(Duration.ofSeconds(1)); // do not wait for the delivery timeout when a test failed
            } else {
                c.close();
            }
        }
        cluster.close();
        timers.shutdownNow();
    }

    private ChannelFactory channelFactory() {
        return address -> {
            ManagedChannel ch = InProcessChannelBuilder.forName(address).scheduledExecutorService(timers).build();
            channels.computeIfAbsent(address, a -> new CopyOnWriteArrayList<>()).add(ch);
            return ch;
        };
    }

    private boolean inTransientFailure(int brokerId) {
        return channels.getOrDefault(cluster.address(brokerId), List.of()).stream()
                .anyMatch(ch -> ch.getState(false) == ConnectivityState.TRANSIENT_FAILURE);
    }

    private void stopAll() {
        for (int id = 1; id <= 3; id++) {
            cluster.stopBroker(id);
        }
    }

    private void startAll() throws Exception {
        for (int id = 1; id <= 3; id++) {
            cluster.startBroker(id);
        }
    }

    @Test
    void idempotentProducerResumesRightAfterAFullClusterRestart() throws Exception {
        Producer<String, String> producer = Producer.create(ProducerConfig.builder()
                .bootstrapServers(cluster.address(1)).channelFactory(channelFactory())
                .retryBackoffMs(50).requestTimeoutMs(2000).deliveryTimeoutMs(60_000).lingerMs(2).build(),
                new StringSerializer(), new StringSerializer());
        clients.add(producer);
        TopicPartition tp = new TopicPartition("t", 1);
        int leader = cluster.leader(tp);
        producer.send(new ProducerRecord<>("t", 1, null, "before")).get(10, TimeUnit.SECONDS);

        stopAll();
        CompletableFuture<RecordMetadata> during = producer.send(new ProducerRecord<>("t", 1, null, "during"));
        // The retries found the leader down: its channel waits out gRPC's reconnect backoff.
        Await.until("the channel to the leader is in TRANSIENT_FAILURE", Duration.ofSeconds(10),
                () -> inTransientFailure(leader));
        startAll();
        long restartedNanos = System.nanoTime();

        RecordMetadata m = during.get(10, TimeUnit.SECONDS);
        long resumedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restartedNanos);
        assertTrue(resumedMs < 3000, "acknowledged " + resumedMs + " ms after the brokers were back");
        assertEquals(1, m.offset());
        assertEquals(List.of("before", "during"), cluster.log(tp).stream().map(Record::getValue)
                .map(v -> v.toStringUtf8()).toList(), "stored once, in order");
    }

    @Test
    void consumerResumesRightAfterAFullClusterRestart() throws Exception {
        TopicPartition tp = new TopicPartition("t", 0);
        cluster.append(tp, "a");
        Consumer<String, String> consumer = Consumer.create(ConsumerConfig.builder()
                .bootstrapServers(cluster.address(1)).channelFactory(channelFactory())
                .retryBackoffMs(50).requestTimeoutMs(2000).fetchMaxWaitMs(100)
                .autoOffsetReset(AutoOffsetReset.EARLIEST).build(), new StringDeserializer(), new StringDeserializer());
        clients.add(consumer);
        consumer.assign(List.of(tp));
        List<String> seen = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (seen.isEmpty() && System.nanoTime() < deadline) {
            consumer.poll(Duration.ofMillis(100)).forEach(r -> seen.add(r.value()));
        }
        assertEquals(List.of("a"), seen);

        stopAll();
        int leader = cluster.leader(tp);
        long failingUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!inTransientFailure(leader) && System.nanoTime() < failingUntil) {
            consumer.poll(Duration.ofMillis(50));
        }
        assertTrue(inTransientFailure(leader), "the channel to the leader is in TRANSIENT_FAILURE");
        cluster.append(tp, "b");
        startAll();
        long restartedNanos = System.nanoTime();
        deadline = restartedNanos + TimeUnit.SECONDS.toNanos(10);
        while (seen.size() < 2 && System.nanoTime() < deadline) {
            consumer.poll(Duration.ofMillis(100)).forEach(r -> seen.add(r.value()));
        }
        long resumedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restartedNanos);
        assertEquals(List.of("a", "b"), seen);
        assertTrue(resumedMs < 3000, "read " + resumedMs + " ms after the brokers were back");
    }
}
