namespace Presence.Domain.Audit;

/// <summary>What was wrong with a question put to the history, so a server can answer 404 or 400.</summary>
public enum AuditProblem
{
    /// <summary>No decision, migration or operation has that id.</summary>
    UnknownId,

    /// <summary>No such user, or nothing recorded for them.</summary>
    UnknownUser,

    /// <summary>An instant or time window that cannot be read or makes no sense.</summary>
    BadInstant,
}

/// <summary>A question the history cannot answer; the message names what was wrong, in words a person can act on.</summary>
public sealed class AuditException(AuditProblem problem, string message) : Exception(message)
{
    public AuditProblem Problem { get; } = problem;
}
