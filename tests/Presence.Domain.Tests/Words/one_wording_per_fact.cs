using Presence.Domain.Words;

namespace Presence.Domain.Tests.Words;

/// <summary>
/// The words every text shares (demo, dashboard, history, explain, replay): a fact reads one way wherever it is told.
/// </summary>
public class one_wording_per_fact
{
    private static readonly Instant At = Instant.FromUtc(2025, 3, 4, 7, 14, 3);

    [Theory]
    [InlineData(300, "300 ms")]
    [InlineData(2_000, "2 s")]
    [InlineData(2_500, "2.5 s")]
    [InlineData(205_700, "3 min 26 s")]
    [InlineData(600_000, "10 min")]
    [InlineData(7_200_000, "2 h")]
    [InlineData(31_500_000, "8 h 45 min")]
    public void durations_read_as_people_say_them(long milliseconds, string expected) =>
        Assert.Equal(expected, Wording.Duration(Duration.FromMilliseconds(milliseconds)));

    [Fact]
    public void a_finished_migration_says_where_from_where_to_how_long_and_how_long_paused() =>
        Assert.Equal("alice-desktop moved basement → imac in 74.2 s (paused 54 ms)",
            EventText.Of(new MigrationCompleted("alice", "m-1", "alice-desktop", "basement", "imac", 54, 74_200, At)));

    [Fact]
    public void a_decision_says_its_rule_what_it_does_and_why() =>
        Assert.Equal(
            "decided (follow_seat) to move alice-desktop from basement to imac while it runs (live migration): alice sat down at imac",
            EventText.Of(new PlacementDecided("alice", "d-1", "alice-desktop", "basement", "imac", PlacementMode.LiveMigration,
                Rules.FollowSeat, "alice sat down at imac", [], [], Duration.FromSeconds(68), "p-1", At)));

    [Fact]
    public void a_signal_says_what_happened_first_whatever_order_its_details_were_stored_in()
    {
        var evidence = new Evidence("login-1", EvidenceKind.Session, "imac", "alice",
            new Dictionary<string, string> { ["seat"] = "console", ["state"] = "login" }, At);

        Assert.Equal("session on imac by alice (state=login, seat=console)", EventText.Of(new SignalRecorded("alice", evidence, At)));
        Assert.Equal(EventText.Signal(evidence), evidence.ToString());
    }

    [Fact]
    public void names_are_snake_case_as_on_the_wire()
    {
        Assert.Equal("placement_decided", Wording.Snake(nameof(PlacementDecided)));
        Assert.Equal("prepare_incoming", Wording.Snake(nameof(CommandKind.PrepareIncoming)));
    }
}
