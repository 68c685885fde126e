using Presence.Domain.Audit;

namespace Presence.Domain.Tests.Audit;

/// <summary>A scenario's history as the store would give it back: numbered from 1, every event correlated as the server stamps it.</summary>
public static class AuditTrail
{
    public static IReadOnlyList<Recorded> Of(Scenario s) => Of(s.History);

    /// <summary>
    /// Correlation ids as the server's Stamp sets them, roughly: the signal for what a signal started, the decision
    /// for agents' answers. Enough for the story to find its way; the real stamping is tested over a real run.
    /// </summary>
    public static IReadOnlyList<Recorded> Of(IReadOnlyList<object> history)
    {
        var recorded = new List<Recorded>();
        string? correlation = null;
        string? decision = null;
        foreach (var (e, i) in history.Select((e, i) => (e, i)))
        {
            switch (e)
            {
                case SignalRecorded s:
                    correlation = s.Evidence.Id;
                    break;
                case PlacementDecided d:
                    decision = d.DecisionId;
                    break;
                case MigrationCompleted or MigrationFailed or MigrationProgressed or IncomingReady or DisplayAttached:
                    correlation = decision;
                    break;
            }

            recorded.Add(new Recorded(i + 1, (IDomainEvent)e, correlation, null, new Dictionary<string, string> { ["policy_version"] = "test" }));
        }

        return recorded;
    }

    public static UserHistory History(Scenario s, string zone = "UTC") =>
        new(TheHouse.AliceName, Of(s), DateTimeZoneProviders.Tzdb[zone], TheHouse.Vm);
}
