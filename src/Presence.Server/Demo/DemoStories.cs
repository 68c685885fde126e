using System.Globalization;
using System.Text.Json.Nodes;
using NodaTime;
using Presence.Contracts.Signals;
using Presence.Domain.Seating;
using Presence.Domain.Signals;
using Presence.Domain.Users;

namespace Presence.Server.Demo;

/// <summary>
/// A story the demo can tell: its script, what it changes in the house file to tell it (a bad-move story records the
/// house that made the bad move), when its day starts, and whose histories it is about.
/// </summary>
public sealed record DemoStory(
    string Name,
    string Summary,
    IReadOnlyDictionary<string, string?> House,
    LocalTime Morning,
    Func<double, DemoScript> Script,
    IReadOnlyList<string> Users);

/// <summary>
/// The day of issue 3, and the bad moves people ask about afterwards. Played with `-- demo --story name --export dir`
/// they are the recorded histories in eventstore/histories, which the tests replay.
/// </summary>
public static class DemoStories
{
    public static DemoStory Day { get; } = new(
        "day", "the house's day and the next morning (the default)", new Dictionary<string, string?>(), DemoScript.Morning,
        DemoScript.Story, ["alice", "bob", "carol", "dave"]);

    /// <summary>Without a cooldown alice's VM chases her between two desks, four moves in twelve minutes.</summary>
    public static DemoStory PingPong { get; } = new(
        "ping-pong", "alice's VM chases her between two desks: a house with no cooldown",
        new Dictionary<string, string?> { ["House:Policy:Cooldown"] = "0s" }, new LocalTime(7, 55),
        speed => new DemoScript(
        [
            .. new (string Host, LocalTime At)[] { ("imac", new LocalTime(8, 0)), ("kids", new LocalTime(8, 4)), ("imac", new LocalTime(8, 8)), ("kids", new LocalTime(8, 12)) }
                .Select(seat => new Step(
                    $"{seat.At.ToString("HH:mm", CultureInfo.InvariantCulture)}. alice logs in at {seat.Host}; with no cooldown, her VM follows her again.",
                    async s =>
                    {
                        await s.ClockToAsync(seat.At);
                        await s.SessionAsync(seat.Host, "alice", SessionState.Login);
                    },
                    TimeSpan.FromSeconds(1 / speed),
                    [Outcome.MoveEnds("alice")])),
        ]),
        ["alice"]);

    /// <summary>With no quiet hours configured, a late login at the iMac moves alice's VM across the house at 23:30.</summary>
    public static DemoStory QuietHours { get; } = new(
        "quiet-hours", "a move at 23:30 in a house that forgot its quiet hours",
        new Dictionary<string, string?> { ["House:Policy:QuietHours"] = "" }, new LocalTime(23, 20),
        speed => new DemoScript(
        [
            new Step(
                "23:30. alice checks one last mail at the iMac. No quiet hours are configured, so her VM moves upstairs.",
                async s =>
                {
                    await s.ClockToAsync(new LocalTime(23, 30));
                    await s.SessionAsync("imac", "alice", SessionState.Login);
                },
                TimeSpan.FromSeconds(1 / speed),
                [Outcome.MoveEnds("alice")]),
            new Step(
                "23:40. She logs out and goes to bed.",
                async s =>
                {
                    await s.ClockToAsync(new LocalTime(23, 40));
                    await s.SessionAsync("imac", "alice", SessionState.Logout);
                },
                TimeSpan.FromSeconds(1 / speed),
                [Outcome.Of<SeatChanged>("alice", "alice off the iMac", c => c.Seat is null)]),
        ]),
        ["alice"]);

    /// <summary>
    /// The laptop's Wi-Fi hops between the house's two bands, which have different names; the house file knows only
    /// one, so the first hop reads as leaving the house and dave's VM is pulled onto the laptop.
    /// </summary>
    public static DemoStory FlappingWifi { get; } = new(
        "flapping-wifi", "the laptop's Wi-Fi hops to the 5 GHz band, which the house file does not name",
        new Dictionary<string, string?> { ["House:Policy:HomeSsid"] = "home" }, new LocalTime(8, 55),
        speed => new DemoScript(
        [
            new Step(
                "09:00. dave logs in at the laptop on the sofa; thin client, so the laptop shows his VM.",
                async s =>
                {
                    await s.ClockToAsync(new LocalTime(9, 0));
                    await s.SessionAsync("laptop", "dave", SessionState.Login);
                },
                TimeSpan.FromSeconds(1 / speed),
                [Outcome.DisplayEnds("dave")]),
            new Step(
                "09:05. The laptop roams to the 5 GHz band, 'home-5G': the house file knows only 'home', so dave seems to be leaving and his VM is pulled onto the laptop.",
                async s =>
                {
                    await s.ClockToAsync(new LocalTime(9, 5));
                    await s.SignalAsync("laptop", "wifi", new JsonObject { ["state"] = "connected", ["ssid"] = "home-5G", ["rssi"] = -61 });
                },
                TimeSpan.FromSeconds(1 / speed),
                [Outcome.MoveEnds("dave")]),
            new Step(
                "09:06. …and back to 'home', and to 'home-5G' again a minute later: dave has not moved from the sofa.",
                async s =>
                {
                    await s.ClockToAsync(new LocalTime(9, 6));
                    await s.SignalAsync("laptop", "wifi", new JsonObject { ["state"] = "connected", ["ssid"] = "home", ["rssi"] = -55 });
                    await s.ClockToAsync(new LocalTime(9, 7));
                    await s.SignalAsync("laptop", "wifi", new JsonObject { ["state"] = "connected", ["ssid"] = "home-5G", ["rssi"] = -60 });
                },
                TimeSpan.FromSeconds(1 / speed),
                [Outcome.Of<SignalRecorded>("dave", "the second hop", r => r.Evidence.Kind == EvidenceKind.Wifi && r.Evidence.Detail("rssi") == "-60")]),
        ]),
        ["dave"]);

    public static IReadOnlyList<DemoStory> All { get; } = [Day, PingPong, QuietHours, FlappingWifi];

    public static DemoStory Named(string name) =>
        All.FirstOrDefault(s => s.Name == name)
        ?? throw new Hosting.StartupException($"no demo story '{name}'; there are: {string.Join(", ", All.Select(s => s.Name))}");
}
