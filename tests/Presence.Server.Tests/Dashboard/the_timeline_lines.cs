using NodaTime;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Seating;
using Presence.Domain.Users;
using Presence.Server.Dashboard;

namespace Presence.Server.Tests.Dashboard;

/// <summary>The words and ids each decision event puts on a user's timeline, and how many lines are kept.</summary>
public sealed class the_timeline_lines
{
    private static readonly Instant At = Instant.FromUtc(2026, 11, 25, 7, 31, 5);

    [Fact]
    public void a_placement_names_its_rule_reason_and_decision()
    {
        var line = UserTimeline.Describe(new PlacementDecided("alice", "d-1", "alice-desktop", "basement", "imac", PlacementMode.LiveMigration,
            Rules.FollowSeat, "alice sits at imac", ["login-1"], [], Duration.FromSeconds(12), "p-1", At));

        Assert.NotNull(line);
        Assert.Equal((At, "placement_decided", "follow_seat", "d-1"), (line.At, line.Kind, line.Rule, line.DecisionId));
        Assert.Equal("decided (follow_seat) to move alice-desktop from basement to imac while it runs (live migration): alice sits at imac", line.Text);
    }

    [Fact]
    public void a_suppressed_move_says_which_rule_stopped_it_and_why()
    {
        var line = UserTimeline.Describe(new MoveSuppressed("alice", "d-2", "alice-desktop", "imac", Rules.Cooldown,
            "moved 2 min ago; cooldown 10 min", [], [], "p-1", At));

        Assert.Equal("cooldown", line?.Rule);
        Assert.Equal("did not move alice-desktop to imac (cooldown): moved 2 min ago; cooldown 10 min", line?.Text);
    }

    [Fact]
    public void outcomes_carry_the_move_id_and_what_was_measured()
    {
        var done = UserTimeline.Describe(new MigrationCompleted("alice", "m-1", "alice-desktop", "basement", "imac", 120, 2500, At));
        var failed = UserTimeline.Describe(new MigrationFailed("alice", "m-2", "alice-desktop", Phases.Migrating, "target vanished", "basement", "imac", null, At));
        var frozen = UserTimeline.Describe(new VmSuspended("bob", "o-1", "bob-music", "imac", "/shared/bob.state", "kids", At));

        Assert.Equal(("m-1", "alice-desktop moved basement → imac in 2.5 s (paused 120 ms)"), (done?.MigrationId, done?.Text));
        Assert.Equal(("m-2", "moving alice-desktop to imac failed while migrating: target vanished; alice-desktop still runs on basement"), (failed?.MigrationId, failed?.Text));
        Assert.Equal(("o-1", "bob-music frozen on imac into /shared/bob.state, to wake on kids"), (frozen?.MigrationId, frozen?.Text));
    }

    [Fact]
    public void seat_changes_say_where_the_user_sits_or_that_they_left()
    {
        Assert.Equal("alice sits at imac (was at basement), 90% sure",
            UserTimeline.Describe(new SeatChanged("alice", "imac", "basement", 0.9, ["e-1"], At))?.Text);
        Assert.Equal("alice left imac, at no computer now", UserTimeline.Describe(new SeatChanged("alice", null, "imac", 0.7, ["e-2"], At))?.Text);
    }

    [Fact]
    public void bookkeeping_events_make_no_line()
    {
        Assert.Null(UserTimeline.Describe(new MigrationProgressed("alice", "m-1", 40, null, null, null, null, At)));
        Assert.Null(UserTimeline.Describe(new UserEnrolled("alice", "alice-desktop", "basement", "p-1", At)));
        Assert.DoesNotContain(typeof(MigrationProgressed), UserTimeline.EventTypes);
    }
}
