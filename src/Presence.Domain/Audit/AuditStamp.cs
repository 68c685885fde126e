using Presence.Domain.Hosts;
using Presence.Domain.Placement;
using Presence.Domain.Users;

namespace Presence.Domain.Audit;

/// <summary>
/// The audit metadata every event of one decision is stored with (see <see cref="Recorded"/>): the correlation id
/// is what started the story (the signal or request, also for the agents' answers, waits and timeouts that carry its
/// decision out), the causation id what caused this very step, and the headers name the decision being carried out,
/// the policy version the decider ran under and the server node. Stamped per event rather than per session, because
/// one session may decide for several users (a host change).
/// </summary>
public sealed record AuditStamp(string? CorrelationId, string? CausationId, IReadOnlyDictionary<string, string> Headers)
{
    public const string DecisionIdHeader = "decision_id";
    public const string PolicyVersionHeader = "policy_version";
    public const string NodeHeader = "node";

    /// <summary>
    /// The stamp for <paramref name="events"/>, which the decider just decided from <paramref name="input"/> over the
    /// saga <paramref name="before"/> (null for a new stream) under policy <paramref name="policyVersion"/> on server
    /// <paramref name="node"/>.
    /// </summary>
    public static AuditStamp For(UserInput input, UserSaga? before, IReadOnlyList<object> events, string policyVersion, string node)
    {
        var decided = events.OfType<PlacementDecided>().FirstOrDefault();
        var cause = CauseOf(input);

        // A new observation starts a story of its own; anything else carries out the decision in flight, if any.
        var decision = decided?.DecisionId ?? (input is ObserveEvidence ? null : before?.CarryingOut);
        var startedBy = input switch
        {
            ObserveEvidence e => e.Evidence.Id,
            Settle when decided is null => before?.Settling?.EvidenceIds.LastOrDefault(),
            _ when decided is not null => decided.EvidenceIds.LastOrDefault(),
            _ => before?.CarryingOutStartedBy,
        };
        var correlation = startedBy ?? decision ?? before?.LastDecision?.Id ?? cause;
        var headers = new Dictionary<string, string> { [PolicyVersionHeader] = policyVersion, [NodeHeader] = node };
        if (decision is not null)
        {
            headers[DecisionIdHeader] = decision;
        }

        return new AuditStamp(correlation, cause, headers);
    }

    /// <summary>What the decider was answering: the evidence, the agent's command, the wait, the timeout, or the host's stream.</summary>
    private static string? CauseOf(UserInput input) => input switch
    {
        ObserveEvidence e => e.Evidence.Id,
        ObserveAgentReport r => r.Report.CommandId,
        Settle s => s.SettleId,
        CheckTimeout t => t.MoveId + "/" + t.Phase,
        ObserveHostChange h => HostState.StreamId(h.Host),
        _ => null,
    };
}
