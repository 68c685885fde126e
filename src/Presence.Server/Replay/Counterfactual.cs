using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Marten;
using Presence.Domain.Audit;
using Presence.Domain.House;
using Presence.Domain.Replay;
using Presence.Server.Audit;
using Presence.Server.Hosting;

namespace Presence.Server.Replay;

/// <summary>
/// `replay`: a history (from the store or a file) decided again under the house it was recorded in, or under other
/// settings layered over it, printed step by step with an exit code that can gate a settings change.
/// </summary>
public static class Counterfactual
{
    public const int Identical = 0;
    public const int Different = 1;
    public const int BadInput = 2;

    /// <summary>
    /// The house to replay under: <paramref name="recordedHouse"/> (a history file's) or else the server's own
    /// configuration, with <paramref name="policyFile"/> laid over it. The file is a house file or a part of one:
    /// <c>{"House": {"Policy": {"Cooldown": "10m"}}}</c>, or the same without the "House" level. Lists in it (hosts,
    /// users) merge with the base by position, as .NET configuration does; give a whole house with --config instead.
    /// </summary>
    public static HousePolicy Policy(IConfiguration? configuration, JsonObject? recordedHouse, string? policyFile)
    {
        try
        {
            return PolicyWith(configuration, recordedHouse, policyFile is null ? null : ReadPolicyFile(policyFile));
        }
        catch (StartupException e) when (policyFile is not null && !e.Message.Contains("(--policy)", StringComparison.Ordinal))
        {
            throw new StartupException($"{e.Message}\n  (with the settings of '{Path.GetFullPath(policyFile)}')");
        }
    }

    /// <summary>The same, with the settings as JSON (what `POST /api/users/{user}/replay` takes).</summary>
    public static HousePolicy PolicyWith(IConfiguration? configuration, JsonObject? recordedHouse, JsonObject? settings)
    {
        var builder = new ConfigurationBuilder();
        if (recordedHouse is not null)
        {
            builder.AddJsonStream(Json(new JsonObject { ["House"] = recordedHouse.DeepClone() }));
        }
        else if (configuration is not null)
        {
            builder.AddConfiguration(configuration);
        }

        if (settings is not null)
        {
            builder.AddJsonStream(Json(settings.ContainsKey("House") ? settings : new JsonObject { ["House"] = settings.DeepClone() }));
        }

        return PresenceApp.ReadSettings(builder.Build()).Policy;
    }

    /// <summary>A user's stored history, to replay; a user with none is unknown here.</summary>
    public static async Task<IReadOnlyList<Recorded>> StoredAsync(IQuerySession session, string user, CancellationToken ct)
    {
        var history = await StoredHistory.LoadAsync(session, user, ct);
        return history.Count > 0
            ? history
            : throw new AuditException(AuditProblem.UnknownUser, $"no history for user '{user}' in this event store");
    }

    /// <summary>
    /// Replays the window between <paramref name="from"/> and <paramref name="to"/> (instants as `history` takes them,
    /// on the house's clock) and renders it; the exit code says whether anything would differ.
    /// </summary>
    public static (int ExitCode, string Text, ReplayReport Report) Run(
        IReadOnlyList<Recorded> history, HousePolicy policy, string? from, string? to, bool everyStep)
    {
        var zone = AuditQueries.Zone(policy);
        var report = Replayer.Replay(history, policy, Instants.ParseOptional(from, zone, "from"), Instants.ParseOptional(to, zone, "to"));
        return (report.Identical ? Identical : Different, ReplayText.Render(report, zone, everyStep), report);
    }

    private static JsonObject ReadPolicyFile(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new StartupException($"settings file '{full}' (--policy) does not exist");
        }

        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(full), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new StartupException($"settings file '{full}' (--policy) is not valid JSON: {e.Message}");
        }

        if (root is not JsonObject settings)
        {
            throw new StartupException($"settings file '{full}' (--policy) must hold a JSON object, such as {{\"House\": {{\"Policy\": {{\"Cooldown\": \"10m\"}}}}}}");
        }

        return settings;
    }

    private static MemoryStream Json(JsonObject json) => new(Encoding.UTF8.GetBytes(json.ToJsonString()));
}
