package io.raftlog.broker.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftlog.log.v1.MetadataImage;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MetadataViewTest {

  private static MetadataImage at(long index) {
    return MetadataImage.newBuilder().setAppliedIndex(index).build();
  }

  @Test
  void caughtUpListenersHearOnlyImagesFromTheRegistrationOnAndTheCurrentOneWhenItIsReached() {
    MetadataView view = new MetadataView(1, Clock.systemUTC(), 10_000);
    List<Long> all = new ArrayList<>();
    List<Long> caughtUp = new ArrayList<>();
    view.addListener(i -> all.add(i.getAppliedIndex()));
    view.addCaughtUpListener(i -> caughtUp.add(i.getAppliedIndex()));

    // A restarted voter replays its metadata log before it has registered again.
    view.update(at(5));
    view.update(at(9));
    assertFalse(view.isCaughtUp());
    // Registered at index 12, not applied here yet: still replaying.
    view.markCommittedAt(12);
    view.update(at(11));
    assertEquals(List.of(), caughtUp);
    view.update(at(12));
    view.update(at(13));
    assertTrue(view.isCaughtUp());
    assertEquals(List.of(5L, 9L, 11L, 12L, 13L), all);
    assertEquals(List.of(12L, 13L), caughtUp);
  }

  @Test
  void aViewAlreadyPastTheRegistrationTellsItsCaughtUpListenersAtOnce() {
    MetadataView view = new MetadataView(1, Clock.systemUTC(), 10_000);
    List<Long> caughtUp = new ArrayList<>();
    view.addCaughtUpListener(i -> caughtUp.add(i.getAppliedIndex()));
    view.update(at(20));
    view.markCommittedAt(18);
    assertEquals(List.of(20L), caughtUp);
  }
}
