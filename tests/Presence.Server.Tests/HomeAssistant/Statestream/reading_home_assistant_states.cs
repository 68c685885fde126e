using Presence.Domain.House;
using Presence.Domain.Seating;
using Presence.Domain.Signals;
using Presence.Server.HomeAssistant.Statestream;
using static Presence.Domain.Signals.EvidenceDetails;

namespace Presence.Server.Tests.HomeAssistant.Statestream;

/// <summary>
/// Every state the mapped entities really take (docs/home-assistant-evidence.md), read into evidence; HA's own
/// "no value" states are nothing; anything else is unreadable, with a reason that names the words Presence reads.
/// </summary>
public sealed class reading_home_assistant_states
{
    private static readonly HousePolicy Policy = new()
    {
        Hosts = [new HostSpec("imac", HostRole.Desktop, true, 1000), new HostSpec("macbook", HostRole.Laptop, true, 400), new HostSpec("kids", HostRole.Desktop, true, 1000)],
        Users = [new UserSpec("alice", "alice-desktop", "imac", ["imac", "macbook"])],
        Vms = [new VmSpec("alice-desktop", 2048, "alice")],
    };

    private static readonly Dictionary<string, string> Rooms = new(StringComparer.OrdinalIgnoreCase) { ["office"] = "imac", ["kids room"] = "kids" };

    private static StatestreamReading Read(StatestreamSignal signal, string state, string entity = "sensor.x") =>
        StatestreamEvidence.Read(new StatestreamEntityOptions
        {
            Entity = entity,
            Signal = signal,
            User = signal is StatestreamSignal.Power or StatestreamSignal.Wifi ? null : "alice",
            Host = signal is StatestreamSignal.Person or StatestreamSignal.Room ? null : "macbook",
        }, state, Policy, Rooms);

    private static StatestreamReading.Observed Observed(StatestreamSignal signal, string state) =>
        Assert.IsType<StatestreamReading.Observed>(Read(signal, state));

    [Theory]
    [InlineData(StatestreamSignal.Person, "home", Zone.Name, "home")]
    [InlineData(StatestreamSignal.Person, "not_home", Zone.Name, "not_home")]
    [InlineData(StatestreamSignal.Person, "Work", Zone.Name, "Work")]
    [InlineData(StatestreamSignal.Session, "Unlocked", Session.State, Session.Unlock)]
    [InlineData(StatestreamSignal.Session, "Locked", Session.State, Session.Lock)]
    [InlineData(StatestreamSignal.Session, "on", Session.State, Session.Active)]
    [InlineData(StatestreamSignal.Session, "off", Session.State, Session.Lock)]
    [InlineData(StatestreamSignal.Power, "Charging", Power.Ac, Power.True)]
    [InlineData(StatestreamSignal.Power, "Full", Power.Ac, Power.True)]
    [InlineData(StatestreamSignal.Power, "Not Charging", Power.Ac, Power.False)]
    [InlineData(StatestreamSignal.Wifi, "Not Connected", Wifi.State, Wifi.Disconnected)]
    [InlineData(StatestreamSignal.Wifi, "<not connected>", Wifi.State, Wifi.Disconnected)]
    [InlineData(StatestreamSignal.Wifi, "lindenweg", Wifi.Ssid, "lindenweg")]
    public void a_state_becomes_its_evidence(StatestreamSignal signal, string state, string key, string value)
    {
        Assert.Equal(value, Observed(signal, state).Said[key]);
    }

    [Theory]
    [InlineData("office", "imac")]
    [InlineData("Office", "imac")]
    [InlineData("kids room", "")]
    [InlineData("kitchen", "")]
    [InlineData("not_home", "")]
    public void a_room_is_near_its_computer_when_she_may_use_it(string room, string host)
    {
        var reading = Observed(StatestreamSignal.Room, room);

        Assert.Equal((EvidenceKind.Room, host, room), (reading.Kind, reading.Host, reading.Said[EvidenceDetails.Room.Name]));
    }

    [Theory]
    [InlineData(StatestreamSignal.Room, "unknown")]
    [InlineData(StatestreamSignal.Person, "unavailable")]
    [InlineData(StatestreamSignal.Session, "Unknown")]
    public void no_value_is_nothing(StatestreamSignal signal, string state)
    {
        Assert.IsType<StatestreamReading.Nothing>(Read(signal, state));
    }

    [Theory]
    [InlineData(StatestreamSignal.Session, "Sleeping", "Locked, Unlocked or Unknown")]
    [InlineData(StatestreamSignal.Power, "Discharging", "Charging, Full or Not Charging")]
    [InlineData(StatestreamSignal.Person, "", "1–255 printable characters")]
    [InlineData(StatestreamSignal.Room, "office\n", "1–255 printable characters")]
    public void anything_else_is_unreadable_and_says_what_is_read(StatestreamSignal signal, string state, string words)
    {
        Assert.Contains(words, Assert.IsType<StatestreamReading.Unreadable>(Read(signal, state)).Reason);
    }

    [Fact]
    public void the_evidence_says_where_it_came_from_and_that_it_is_weak()
    {
        var entity = new StatestreamEntityOptions { Entity = "sensor.macbook_ssid", Signal = StatestreamSignal.Wifi, Host = "macbook" };
        var reading = Assert.IsType<StatestreamReading.Observed>(StatestreamEvidence.Read(entity, "lindenweg", Policy, Rooms));

        var evidence = StatestreamEvidence.ToEvidence(reading, entity, "ha-1", NodaTime.Instant.FromUtc(2026, 12, 4, 20, 0));

        Assert.Equal((Origin.HomeAssistant, "sensor.macbook_ssid"), (evidence.Detail(Origin.Source), evidence.Detail(Origin.Entity)));
        Assert.Equal(Strength.Weak, EvidenceStrength.Claimed(evidence));
        Assert.Equal((EvidenceKind.Wifi, "macbook", Wifi.Connected), (evidence.Kind, evidence.Host, evidence.Detail(Wifi.State)));
    }
}
