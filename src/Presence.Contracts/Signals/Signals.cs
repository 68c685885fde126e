using System.Text.Json.Serialization;
using NodaTime;
using Presence.Contracts.Wire;

namespace Presence.Contracts.Signals;

public enum SessionState { Login, Logout, Lock, Unlock, Active }

public enum SessionSeat { Console, Remote }

public enum LidState { Open, Closed }

public enum WifiState { Connected, Disconnected }

/// <summary>
/// What one computer observes about itself (CONTRACT.md §1). The host comes from the topic, not the payload,
/// so a computer can only speak for itself.
/// </summary>
public abstract record Signal
{
    [JsonIgnore] public string Host { get; init; } = "";
    public string? Id { get; init; }
    public Instant? At { get; init; }

    /// <summary>The `{kind}` segment of the topic.</summary>
    [JsonIgnore] public abstract string Kind { get; }

    /// <summary>The user a signal is about, when it names one.</summary>
    [JsonIgnore] public virtual string? User => null;

    public static IReadOnlyList<string> Kinds { get; } = ["session", "lid", "wifi", "idle", "power"];

    public static Signal Parse(string host, string kind, ReadOnlySpan<byte> payload)
    {
        if (!Kinds.Contains(kind))
        {
            throw new ContractException($"unknown signal kind '{kind}'; expected one of {string.Join("|", Kinds)}");
        }

        var p = PayloadReader.Open(payload);
        Signal signal = kind switch
        {
            "session" => new SessionSignal
            {
                UserName = p.RequiredName("user"),
                State = p.RequiredEnum<SessionState>("state"),
                Seat = p.OptionalEnum<SessionSeat>("seat") ?? SessionSeat.Console,
            },
            "lid" => new LidSignal { State = p.RequiredEnum<LidState>("state") },
            "wifi" => new WifiSignal
            {
                State = p.RequiredEnum<WifiState>("state"),
                Ssid = p.OptionalString("ssid", 32),
                Bssid = p.OptionalString("bssid", 17),
                Rssi = p.OptionalInt("rssi", -150, 0),
            },
            "idle" => new IdleSignal
            {
                UserName = p.RequiredName("user"),
                IdleSeconds = p.RequiredLong("idle_seconds", 0, long.MaxValue),
            },
            "power" => new PowerSignal
            {
                Ac = p.RequiredBool("ac"),
                BatteryPercent = p.OptionalInt("battery_percent", 0, 100),
            },
            _ => throw new ContractException($"unknown signal kind '{kind}'"),
        };

        return signal with { Host = host, Id = p.Id(), At = p.At() };
    }
}

public sealed record SessionSignal : Signal
{
    [JsonPropertyName("user")] public required string UserName { get; init; }
    public required SessionState State { get; init; }
    public SessionSeat Seat { get; init; } = SessionSeat.Console;
    [JsonIgnore] public override string Kind => "session";
    [JsonIgnore] public override string? User => UserName;
}

public sealed record LidSignal : Signal
{
    public required LidState State { get; init; }
    [JsonIgnore] public override string Kind => "lid";
}

public sealed record WifiSignal : Signal
{
    public required WifiState State { get; init; }
    public string? Ssid { get; init; }
    public string? Bssid { get; init; }
    public int? Rssi { get; init; }
    [JsonIgnore] public override string Kind => "wifi";
}

public sealed record IdleSignal : Signal
{
    [JsonPropertyName("user")] public required string UserName { get; init; }
    public required long IdleSeconds { get; init; }
    [JsonIgnore] public override string Kind => "idle";
    [JsonIgnore] public override string? User => UserName;
}

public sealed record PowerSignal : Signal
{
    public required bool Ac { get; init; }
    public int? BatteryPercent { get; init; }
    [JsonIgnore] public override string Kind => "power";
}
