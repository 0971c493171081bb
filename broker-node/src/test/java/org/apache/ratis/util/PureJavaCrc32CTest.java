package org.apache.ratis.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.broker.raft.RaftLogChecksum;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.zip.Checksum;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Raftlog's {@link PureJavaCrc32C} against Ratis' original, loaded from the ratis-common jar in a
 * class loader of its own: same checksums and same effect on the buffers for random input, and
 * every public member of the original present, so a Ratis upgrade that changes the class fails here.
 */
class PureJavaCrc32CTest {

  private static URLClassLoader ratisOnly;
  private static Class<?> original;

  @BeforeAll
  static void loadOriginal() throws Exception {
    // JavaUtils lives in ratis-common next to the original PureJavaCrc32C and is not replaced.
    URL ratisCommon = JavaUtils.class.getProtectionDomain().getCodeSource().getLocation();
    ratisOnly = new URLClassLoader(new URL[] {ratisCommon}, ClassLoader.getPlatformClassLoader());
    original = ratisOnly.loadClass(PureJavaCrc32C.class.getName());
    assertNotEquals(PureJavaCrc32C.class, original, "the original must come from ratis-common, not this module");
  }

  @AfterAll
  static void close() throws Exception {
    ratisOnly.close();
  }

  private static Checksum originalInstance() throws Exception {
    return (Checksum) original.getConstructor().newInstance();
  }

  @Test
  void theReplacementIsTheClassRatisUsesHere() {
    assertTrue(RaftLogChecksum.replacementActive(), "loaded from " + RaftLogChecksum.loadedFrom());
  }

  @Test
  void standardCheckValue() {
    PureJavaCrc32C crc = new PureJavaCrc32C();
    byte[] b = "123456789".getBytes(StandardCharsets.US_ASCII);
    crc.update(b, 0, b.length);
    assertEquals(0xE3069283L, crc.getValue(), "the CRC-32C check value");
  }

  @Test
  void sameChecksumsAndBufferEffectsAsRatisOnRandomInput() throws Exception {
    long seed = new Random().nextLong();
    Random random = new Random(seed);
    String context = "seed " + seed;
    for (int round = 0; round < 300; round++) {
      Checksum ours = new PureJavaCrc32C();
      Checksum theirs = originalInstance();
      int steps = 1 + random.nextInt(6);
      for (int step = 0; step < steps; step++) {
        byte[] data = new byte[random.nextInt(5000)];
        random.nextBytes(data);
        int offset = data.length == 0 ? 0 : random.nextInt(data.length);
        int length = random.nextInt(data.length - offset + 1);
        switch (random.nextInt(6)) {
          case 0 -> {
            ours.update(data, offset, length);
            theirs.update(data, offset, length);
          }
          case 1 -> {
            int b = random.nextInt();
            ours.update(b);
            theirs.update(b);
          }
          case 2, 3, 4 -> {
            ByteBuffer a = buffer(random.nextInt(3), data, offset, length);
            ByteBuffer b = copyOf(a);
            ours.update(a);
            theirs.update(b);
            assertEquals(b.position(), a.position(), context);
            assertEquals(b.limit(), a.limit(), context);
            assertEquals(b.order(), a.order(), context);
          }
          default -> {
            ours.reset();
            theirs.reset();
          }
        }
        assertEquals(theirs.getValue(), ours.getValue(), context + ", round " + round + ", step " + step);
      }
    }
  }

  /** kind 0: heap, 1: direct, 2: read-only heap; the bytes between position and limit are data[offset, offset+length). */
  private static ByteBuffer buffer(int kind, byte[] data, int offset, int length) {
    ByteBuffer whole = switch (kind) {
      case 1 -> ByteBuffer.allocateDirect(data.length).put(data).clear();
      case 2 -> ByteBuffer.wrap(data).asReadOnlyBuffer();
      default -> ByteBuffer.wrap(data);
    };
    return whole.position(offset).limit(offset + length).order(ByteOrder.BIG_ENDIAN);
  }

  /** An independent buffer of the same kind, content, position and limit. */
  private static ByteBuffer copyOf(ByteBuffer a) {
    ByteBuffer whole = a.duplicate().clear();
    byte[] content = new byte[whole.remaining()];
    whole.get(content);
    ByteBuffer b = a.isDirect() ? ByteBuffer.allocateDirect(content.length).put(content).clear()
        : a.isReadOnly() ? ByteBuffer.wrap(content).asReadOnlyBuffer() : ByteBuffer.wrap(content);
    return b.position(a.position()).limit(a.limit()).order(a.order());
  }

  @Test
  void everyPublicMemberOfTheOriginalIsHere() {
    assertEquals(members(original), members(PureJavaCrc32C.class));
    assertEquals(Arrays.toString(original.getInterfaces()), Arrays.toString(PureJavaCrc32C.class.getInterfaces()));
  }

  private static Set<String> members(Class<?> c) {
    Set<String> names = new TreeSet<>();
    for (Constructor<?> k : c.getConstructors()) {
      names.add("<init>" + Arrays.toString(k.getParameterTypes()));
    }
    for (Method m : c.getDeclaredMethods()) {
      if (Modifier.isPublic(m.getModifiers())) {
        names.add(m.getName() + Arrays.toString(m.getParameterTypes()) + " " + m.getReturnType()
            + (Modifier.isStatic(m.getModifiers()) ? " static" : ""));
      }
    }
    return names;
  }
}
