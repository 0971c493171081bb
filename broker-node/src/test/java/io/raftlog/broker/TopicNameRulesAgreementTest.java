package io.raftlog.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.raftlog.client.internals.TopicNames;
import io.raftlog.statemachine.metadata.TopicRules;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The SDK refuses topic names without asking a broker ({@link TopicNames}, a copy: the SDK may not
 * import ratis-state-machine). It must refuse exactly what the broker's {@link TopicRules} refuses,
 * never a name the broker accepts, and say it in the broker's words.
 */
@Timeout(30)
class TopicNameRulesAgreementTest {

  private static final String ALPHABET = "aZ09._-.. !/\\:*+\t\n\u0000\u007f\u00a0\u00e9\u4e3b\ud83d\ude00\ud800\udfff";

  private static void assertAgree(String name, String context) {
    assertEquals(TopicRules.checkName(name), TopicNames.problem(name), context + ": name '" + name + "'");
  }

  @Test
  void sameVerdictAndMessageOnEdgeCases() {
    List<String> names = new ArrayList<>(List.of("", ".", "..", "...", "a", "bad name!", ".hidden", "a..b",
        "orders/eu", "tab\there", "tópico", "主题", "x😀", "\ud83d", "\ude00x", "a\u0000b", "-", "_", "Z",
        "a".repeat(249), "a".repeat(250), " ".repeat(250), "é".repeat(249), "." + "a".repeat(248)));
    for (char c = 0; c < 0x2000; c++) {
      names.add("t" + c);
      names.add(String.valueOf(c));
    }
    names.add(null);
    names.forEach(n -> assertAgree(n, "edge case"));
  }

  @Test
  void sameVerdictAndMessageOnRandomNames() {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    for (int i = 0; i < 50_000; i++) {
      int length = random.nextBoolean() ? random.nextInt(6) : 245 + random.nextInt(8);
      StringBuilder b = new StringBuilder(length);
      boolean mostlyLegal = random.nextInt(4) != 0;
      for (int j = 0; j < length; j++) {
        if (mostlyLegal && random.nextInt(50) != 0) {
          b.append("abcXYZ019._-".charAt(random.nextInt(12)));
        } else if (random.nextInt(8) == 0) {
          b.append((char) random.nextInt(Character.MAX_VALUE + 1));
        } else {
          b.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
        }
      }
      assertAgree(b.toString(), "seed " + seed + ", name " + i);
    }
  }
}
