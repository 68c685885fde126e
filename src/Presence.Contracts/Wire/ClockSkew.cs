using NodaTime;

namespace Presence.Contracts.Wire;

/// <summary>
/// How far an inbound `at` may be from the server clock (CONTRACT.md Conventions, Mqtt:MaxSkew), in one place.
/// A signal, request or snapshot whose time is off either way comes from a clock that cannot be trusted, so its
/// time would misplace it among the other evidence. An agent's event is a report of what happened to a command:
/// it may reach a server that was down for a while, so it is taken however late it is (the saga already orders it
/// by command, not by time); only one from the future says the agent's clock is wrong.
/// Status and inventory stay under the two-way rule: the host's state takes the last snapshot stored as the
/// truth, so a late one would overwrite a newer one, and the agent sends them without `at` (stamped on arrival).
/// </summary>
public static class ClockSkew
{
    /// <summary>Why <paramref name="at"/> is refused on a topic of <paramref name="route"/>, or null when it is taken.</summary>
    public static string? Refusal(ParsedTopic route, Instant at, Instant now, Duration maxSkew)
    {
        var off = at - now;
        var sender = route.Host ?? route.User;
        var from = sender is null ? "" : $" from '{sender}'";
        var seconds = $"{off.TotalSeconds:+0;-0}s";
        if (route.Kind == TopicKind.AgentEvents)
        {
            return off > maxSkew
                ? $"field 'at' ({at}){from} is {seconds} from the server clock ({now}), ahead of it: an agent's report may arrive late, but at most {maxSkew.TotalSeconds:0}s ahead allowed"
                : null;
        }

        return Duration.FromTicks(Math.Abs(off.BclCompatibleTicks)) > maxSkew
            ? $"field 'at' ({at}){from} is {seconds} from the server clock ({now}); at most {maxSkew.TotalSeconds:0}s allowed"
            : null;
    }
}
