import io.raftlog.client.Acks;
import io.raftlog.client.ByteArraySerializer;
import io.raftlog.client.Producer;
import io.raftlog.client.ProducerConfig;
import io.raftlog.client.ProducerRecord;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Produces with a fresh value array per record, as an application's serializer does, where
 * {@code perf produce} (like Kafka's ProducerPerformance) sends the same array every time. For
 * measuring what the producer keeps per queued record (garbage collection). acks=all,
 * {@code batch.size=262144}, {@code linger.ms=5}, no key, topic {@code perf}.
 *
 * <pre>
 * javac -d /tmp/dvp -cp "cli/target/lib/*" bench/DistinctValuesProduce.java
 * java -Xmx1g -Xlog:gc:file=gc.log -cp "/tmp/dvp:cli/target/lib/*" DistinctValuesProduce BOOTSTRAP RECORDS SIZE
 * </pre>
 * (Compiled first, so that a CPU measurement of the run does not include the compiler.)
 */
public class DistinctValuesProduce {
    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: DistinctValuesProduce BOOTSTRAP RECORDS SIZE");
            System.exit(2);
        }
        List<String> bootstrap = List.of(args[0].split(","));
        int records = Integer.parseInt(args[1]);
        int size = Integer.parseInt(args[2]);
        ProducerConfig config = ProducerConfig.builder().bootstrapServers(bootstrap).acks(Acks.ALL)
                .properties(Map.of("batch.size", "262144", "linger.ms", "5")).build();
        byte[] template = new byte[size];
        new Random(1).nextBytes(template);
        AtomicLong errors = new AtomicLong();
        long start = System.nanoTime();
        try (Producer<byte[], byte[]> producer = Producer.create(config, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            for (int i = 0; i < records; i++) {
                byte[] value = template.clone();
                value[0] = (byte) i;
                producer.send(new ProducerRecord<>("perf", null, value), (metadata, e) -> {
                    if (e != null) {
                        errors.incrementAndGet();
                    }
                });
            }
            producer.flush();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("%d records in %.2f s: %.0f records/s, errors %d%n", records, seconds, records / seconds,
                errors.get());
        System.exit(errors.get() == 0 ? 0 : 1);
    }
}
