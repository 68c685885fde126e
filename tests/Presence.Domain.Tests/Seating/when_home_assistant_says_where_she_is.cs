using Presence.Domain.Audit;
using Presence.Domain.Seating;
using Presence.Domain.Tests.Audit;
using Presence.Domain.Words;
using static Presence.Domain.Signals.EvidenceDetails;
using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Seating;

/// <summary>
/// Home Assistant relays what its sensors say (a Bluetooth room sensor, a person's zone, HASS.Agent's session
/// sensor): weak evidence. It may seat alice where nothing certain did, after the display's hold-down, and it never
/// takes her from a seat her console login gave her.
/// </summary>
public class when_home_assistant_says_where_she_is
{
    private const string Bob = "bob";

    /// <summary>Evidence as the server makes it from a statestream state: origin, entity, weak.</summary>
    private static Step Relayed(EvidenceKind kind, string host, string entity, string user, params (string Key, string Value)[] said) => s =>
    {
        var details = said.ToDictionary(d => d.Key, d => d.Value);
        details[Origin.Source] = Origin.HomeAssistant;
        details[Origin.Entity] = entity;
        details[Origin.Strength] = Origin.Weak;
        return new ObserveEvidence
        {
            User = AliceName,
            House = s.House,
            Seed = s.NextSeed(),
            Evidence = new Evidence(s.NextEvidenceId(), kind, host, user, details, s.Now),
        };
    };

    /// <summary>The room sensor puts her in a room; host is the computer there ("" for a room without one).</summary>
    private static Step InRoom(string room, string host) => Relayed(EvidenceKind.Room, host, "sensor.alice_room", AliceName, (Room.Name, room));

    private static Step InZone(string zone) => Relayed(EvidenceKind.Zone, "", "person.alice", AliceName, (Zone.Name, zone));

    private static Step SessionSensor(string host, string state, string user = AliceName) =>
        Relayed(EvidenceKind.Session, host, $"sensor.{host}_sessionstate", user, (Session.State, state));

    [Fact]
    public void a_room_with_a_computer_seats_her_there_as_a_guess()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
            .WithSettings(p => p with { HoldDown = new HoldDowns(Duration.FromSeconds(3), Duration.FromSeconds(20), Duration.FromSeconds(30)) })
            .When(InRoom("office", Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(SettlingStarted))
            .ThenNoCommands();

        var seat = s.The<SeatChanged>();
        Assert.Equal((Imac, EvidenceStrength.RoomConfidence), (seat.Seat, seat.Confidence));
        Assert.Equal(Strength.Weak, EvidenceStrength.Of(seat.Confidence));

        // Weak: the desktop shows only once the display's hold-down has passed.
        Assert.Equal(Duration.FromSeconds(3), s.The<SettlingStarted>().HoldDown);
        s.After(Duration.FromSeconds(3)).When(TheWait.RunsOut());
        Assert.Equal([CommandKind.AttachDisplay], s.Commands.Select(c => c.Kind));
    }

    [Fact]
    public void a_room_guess_never_beats_a_console_login()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Basement))
            .When(InRoom("office", Imac))
            .Then(typeof(SignalRecorded))
            .ThenNoCommands();

        Assert.Equal((Basement, EvidenceStrength.CertainConfidence), (s.State!.Seat, s.State.SeatConfidence));
    }

    [Fact]
    public void a_console_login_beats_a_room_guess()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(InRoom("office", Imac))
            .When(Alice.LogsInAt(Laptop));

        Assert.Equal((Laptop, EvidenceStrength.CertainConfidence), (s.State!.Seat, s.State.SeatConfidence));
    }

    [Fact]
    public void a_room_without_a_computer_clears_a_guessed_seat()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(InRoom("office", Imac))
            .When(InRoom("kitchen", ""))
            .Then(typeof(SignalRecorded), typeof(SeatChanged));

        Assert.Null(s.The<SeatChanged>().Seat);
    }

    [Theory]
    [InlineData("kitchen")]
    [InlineData(Room.NotHome)]
    public void leaving_the_room_never_clears_a_console_login(string room)
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Imac))
            .When(InRoom(room, ""))
            .Then(typeof(SignalRecorded));

        Assert.Equal(Imac, s.State!.Seat);
    }

    [Fact]
    public void not_home_clears_a_guessed_seat_and_home_says_nothing()
    {
        Scenario.AliceOnTheBasementServer()
            .Given(InRoom("office", Imac))
            .When(InZone(Zone.Home))
            .Then(typeof(SignalRecorded));

        var s = Scenario.AliceOnTheBasementServer()
            .Given(InRoom("office", Imac))
            .When(InZone(Zone.NotHome))
            .Then(typeof(SignalRecorded), typeof(SeatChanged));
        Assert.Null(s.The<SeatChanged>().Seat);
    }

    [Fact]
    public void a_zone_never_clears_a_console_login()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Imac))
            .When(InZone("work"))
            .Then(typeof(SignalRecorded));

        Assert.Equal(Imac, s.State!.Seat);
    }

    [Fact]
    public void a_relayed_unlock_is_weak()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .When(SessionSensor(Imac, Session.Unlock));

        Assert.Equal((Imac, EvidenceStrength.RelayedConfidence), (s.State!.Seat, s.State.SeatConfidence));
        Assert.Equal(Strength.Weak, EvidenceStrength.Of(s.State.SeatConfidence));
    }

    [Fact]
    public void a_relayed_unlock_elsewhere_never_beats_a_console_login()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Imac))
            .When(SessionSensor(Laptop, Session.Unlock))
            .Then(typeof(SignalRecorded));

        Assert.Equal(Imac, s.State!.Seat);
    }

    [Fact]
    public void someone_elses_relayed_unlock_never_takes_her_console_seat_or_screen()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
            .Given(Alice.LogsInAt(Imac), Agent.SeatReports(ReportState.Completed))
            .When(SessionSensor(Imac, Session.Unlock, user: Bob))
            .Then(typeof(SignalRecorded))
            .ThenNoCommands();

        Assert.Equal((Imac, Imac), (s.State!.Seat, s.State.ShownOn));
    }

    [Fact]
    public void relayed_evidence_is_never_late_against_a_computers_own_clock()
    {
        // The computer's agent stamped its login by its own clock, a minute ahead of the server's: Home Assistant's
        // word, stamped on arrival, still counts.
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.Evidence(EvidenceKind.Idle, Laptop, (Idle.Seconds, "0")))
            .After(Duration.FromSeconds(1));
        var ahead = s.State!.NewestEvidence[Laptop];
        s.At(ahead - Duration.FromMinutes(1)).When(SessionSensor(Laptop, Session.Unlock));

        Assert.Equal(Laptop, s.State!.Seat);
        Assert.Equal(ahead, s.State.NewestEvidence[Laptop]);
    }

    [Fact]
    public void its_words_say_home_assistant_and_which_entity()
    {
        var s = Scenario.AliceOnTheBasementServer().When(InRoom("office", Imac));

        Assert.Equal("room near imac by alice (room=office), from Home Assistant's sensor.alice_room, weak",
            EventText.Of((IDomainEvent)s.The<SignalRecorded>()));
    }

    [Fact]
    public void explain_tells_the_move_came_from_home_assistant_and_which_entity()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithSettings(p => p with { TimeZone = Berlin })
            .Given(InRoom("office", Imac));
        var decision = s.InHistory<PlacementDecided>();

        var story = AuditTrail.History(s, Berlin).Explain(decision.DecisionId);

        var signal = Assert.Single(story.Signals);
        Assert.False(signal.Late);
        Assert.Contains("room near imac by alice (room=office), from Home Assistant's sensor.alice_room, weak  [ev-1]", story.Text);
        Assert.Contains("Where alice was: at imac, confidence 60%", story.Text);
    }
}
