using Marten;

namespace Presence.Server.Audit;

/// <summary>The audit trail: every event keeps its story's metadata (Domain/Audit/AuditStamp), and HTTP asks about it.</summary>
public static class Configuration
{
    public static StoreOptions ConfigureAudit(this StoreOptions opts)
    {
        opts.Events.MetadataConfig.CorrelationIdEnabled = true;
        opts.Events.MetadataConfig.CausationIdEnabled = true;
        opts.Events.MetadataConfig.HeadersEnabled = true;
        return opts;
    }
}
