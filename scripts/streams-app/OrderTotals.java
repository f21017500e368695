import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;

/**
 * A small, real Kafka Streams application for flowscope's tests (run by scripts/local-streams-app):
 * it counts orders per customer.
 *
 * <p>Input records: key = order id, value = customer (Strings). Re-keying by customer makes Streams
 * route the records through a repartition topic, APP-by-customer-repartition; the counts live in the
 * store order-counts, backed by a changelog topic, APP-order-counts-changelog; every new count goes to
 * the output topic (key = customer, value = the count in decimal).
 *
 * <p>usage: OrderTotals BOOTSTRAP APPLICATION_ID INPUT OUTPUT classic|streams [KEY=VALUE...]
 *
 * <p>The KEY=VALUE pairs are further client properties. Prints state=STATE on every state change
 * (state=RUNNING once it processes); on SIGTERM it closes, leaving its group, and exits 0.
 */
public final class OrderTotals {
    private static final String USAGE =
        "usage: OrderTotals BOOTSTRAP APPLICATION_ID INPUT OUTPUT classic|streams [KEY=VALUE...]";

    public static void main(String[] args) throws InterruptedException {
        if (args.length < 5 || !(args[4].equals("classic") || args[4].equals("streams"))) {
            usage();
        }
        Properties props = new Properties();
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, args[1]);
        props.put(StreamsConfig.GROUP_PROTOCOL_CONFIG, args[4]);
        // Forward each count at once instead of when the record cache is flushed: tests wait for output.
        props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 1000);
        for (int i = 5; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq <= 0) {
                usage();
            }
            props.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }

        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(args[2], Consumed.with(Serdes.String(), Serdes.String()))
            .groupBy((orderId, customer) -> customer, Grouped.with("by-customer", Serdes.String(), Serdes.String()))
            .count(Materialized.as("order-counts"))
            .toStream()
            .mapValues(count -> Long.toString(count))
            .to(args[3], Produced.with(Serdes.String(), Serdes.String()));

        KafkaStreams streams = new KafkaStreams(builder.build(), props);
        CountDownLatch failed = new CountDownLatch(1);
        streams.setStateListener((now, before) -> {
            System.out.println("state=" + now);
            System.out.flush();
            if (now == KafkaStreams.State.ERROR) {
                failed.countDown();
            }
        });
        // SIGTERM runs the shutdown hooks: leave the group at once rather than after the session timeout.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> streams.close(
            CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                .withTimeout(Duration.ofSeconds(20))), "close-streams"));
        streams.start();
        failed.await();
        System.exit(1);
    }

    private static void usage() {
        System.err.println(USAGE);
        System.exit(2);
    }
}
