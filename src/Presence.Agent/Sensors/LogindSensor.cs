using System.Globalization;
using NodaTime;
using Presence.Agent.Processes;
using Presence.Contracts.Signals;
using Presence.Contracts.Wire;

namespace Presence.Agent.Sensors;

/// <summary>
/// Who is logged in here, from logind: <c>loginctl list-sessions --no-legend</c> for the sessions, then
/// <c>loginctl show-session &lt;id&gt; -p …</c> for each. Per user it publishes <c>session</c> signals (login,
/// lock, unlock, logout) and <c>idle</c> ones (logind's IdleHint: idle_seconds since IdleSinceHint when idle,
/// 0 when the user came back). A user with a console session is judged by those alone, so an SSH session that
/// never locks does not hide a locked screen.
/// </summary>
public sealed class LogindSensor(ICommandRunner runner, string loginctl, IClock clock) : IHostSensor
{
    public static readonly string[] Properties = ["Name", "Class", "State", "Remote", "LockedHint", "IdleHint", "IdleSinceHint"];

    // Users seen by this agent: whether they have locked since logging in decides login versus unlock,
    // and users gone are reported as logged out (once: the fingerprint stays the same afterwards).
    private readonly Dictionary<string, bool> lockedSinceLogin = new(StringComparer.Ordinal);

    public string Name => "Logind";

    public async Task<SensorReading> ReadAsync(CancellationToken cancellationToken)
    {
        CommandResult list;
        try
        {
            list = await runner.RunAsync(loginctl, ["list-sessions", "--no-legend"], cancellationToken);
        }
        catch (ProgramNotFoundException e)
        {
            return SensorReading.Missing(e.Message);
        }

        if (!list.Succeeded)
        {
            return SensorReading.Missing($"loginctl: {(list.StandardError.Trim() is { Length: > 0 } error ? error : $"exit {list.ExitCode}")}");
        }

        var sessions = new List<IReadOnlyDictionary<string, string>>();
        foreach (var line in list.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var id = line.Split(' ', 2)[0];
            var show = await runner.RunAsync(loginctl, ["show-session", id, .. Properties.SelectMany(p => new[] { "-p", p })], cancellationToken);
            if (show.Succeeded)
            {
                // A session that ended between the two calls is simply not there.
                sessions.Add(ParseProperties(show.StandardOutput));
            }
        }

        var observations = new List<Observation>();
        var users = sessions
            .Where(s => s.GetValueOrDefault("Class", "").StartsWith("user", StringComparison.Ordinal)
                        && s.GetValueOrDefault("State") != "closing"
                        && Topics.IsValidName(s.GetValueOrDefault("Name")))
            .GroupBy(s => s["Name"], StringComparer.Ordinal);
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var user in users)
        {
            present.Add(user.Key);
            var console = user.Where(s => s.GetValueOrDefault("Remote") != "yes").ToList();
            var judged = console.Count > 0 ? console : user.ToList();
            var seat = console.Count > 0 ? SessionSeat.Console : SessionSeat.Remote;
            var locked = judged.All(s => s.GetValueOrDefault("LockedHint") == "yes");

            var seen = lockedSinceLogin.TryGetValue(user.Key, out var hasLocked);
            var state = locked ? SessionState.Lock : seen && hasLocked ? SessionState.Unlock : SessionState.Login;
            lockedSinceLogin[user.Key] = hasLocked || locked;
            observations.Add(new Observation(
                $"session/{user.Key}",
                new SessionSignal { UserName = user.Key, State = state, Seat = seat },
                locked ? "locked" : "unlocked"));

            var idle = judged.All(s => s.GetValueOrDefault("IdleHint") == "yes");
            var since = judged.Select(s => ParseMicroseconds(s.GetValueOrDefault("IdleSinceHint"))).Max();
            var idleSeconds = idle && since > 0
                ? Math.Max(0, (long)(clock.GetCurrentInstant() - Instant.FromUnixTimeTicks(since * 10)).TotalSeconds)
                : 0;
            observations.Add(new Observation(
                $"idle/{user.Key}",
                new IdleSignal { UserName = user.Key, IdleSeconds = idleSeconds },
                idle ? "idle" : "active"));
        }

        foreach (var gone in lockedSinceLogin.Keys.Where(u => !present.Contains(u)).ToList())
        {
            lockedSinceLogin[gone] = false;
            observations.Add(new Observation(
                $"session/{gone}", new SessionSignal { UserName = gone, State = SessionState.Logout }, "logged-out"));
        }

        return new SensorReading(observations);
    }

    /// <summary><c>Name=alice</c> lines, as <c>loginctl show-session -p</c> prints them.</summary>
    public static IReadOnlyDictionary<string, string> ParseProperties(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('=', 2))
            .Where(parts => parts.Length == 2)
            .GroupBy(parts => parts[0], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Last()[1], StringComparer.Ordinal);

    private static long ParseMicroseconds(string? value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var us) ? us : 0;
}
