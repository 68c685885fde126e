using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Settling;

/// <summary>
/// A migration is dear: with a hold-down the decider first waits to see that alice stays at the new seat, and says
/// so with an event the server turns into a durable scheduled message. Nothing is sent to any agent meanwhile.
/// </summary>
public class when_a_seat_change_must_settle_first
{
    private static readonly Duration Migration = Duration.FromSeconds(30);

    private static Scenario WithAHoldDown() => Scenario.AliceOnTheBasementServer()
        .WithSettings(p => p with { HoldDown = new HoldDowns(Duration.FromSeconds(3), Migration, Duration.FromMinutes(1)) });

    [Fact]
    public void the_decider_starts_a_wait_instead_of_moving()
    {
        var s = WithAHoldDown()
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayAttachRequested), typeof(SettlingStarted));

        // Show first, then move: the seat shows it from the basement at once; only the migration waits.
        Assert.Equal([CommandKind.AttachDisplay], s.Commands.Select(c => c.Kind));
        Assert.Equal("alice sat down at imac; shown at once from basement; moving to imac, about 68 s once alice has sat there for 30 s",
            s.The<PlacementDecided>().Reason);

        var wait = s.The<SettlingStarted>();
        Assert.Equal(AliceName, wait.User);
        Assert.Equal(Imac, wait.Seat);
        Assert.Equal(PlacementMode.LiveMigration, wait.Mode);
        Assert.Equal(Migration, wait.HoldDown);
        Assert.Equal(s.Now + Migration, wait.DueAt);
        Assert.Equal(["ev-1"], wait.EvidenceIds);
        Assert.Equal(s.Now, wait.At);
        Assert.StartsWith("w-", wait.SettleId);
    }

    [Fact]
    public void the_saga_remembers_what_it_waits_for()
    {
        var s = WithAHoldDown().When(Alice.LogsInAt(Imac));

        var wait = s.The<SettlingStarted>();
        Assert.Equal(new PendingSettle(wait.SettleId, Imac, wait.DueAt, wait.EvidenceIds) { Mode = wait.Mode }, s.State!.Settling);
        Assert.Null(s.State.Migration);
        Assert.Equal(Basement, s.State.VmHost);
        Assert.Equal(PlacementMode.AttachDisplay, s.InHistory<PlacementDecided>().Mode);
    }

    [Fact]
    public void each_wait_gets_its_own_id()
    {
        var s = WithAHoldDown().Given(Alice.LogsInAt(Imac)).When(Alice.LogsInAt(Laptop));

        var waits = s.History.OfType<SettlingStarted>().ToList();
        Assert.Equal(2, waits.Count);
        Assert.NotEqual(waits[0].SettleId, waits[1].SettleId);
    }
}
