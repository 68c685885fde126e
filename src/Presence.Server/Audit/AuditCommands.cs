using System.Text.Json;
using JasperFx.CommandLine;
using Marten;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Presence.Domain.Audit;
using Presence.Domain.House;

namespace Presence.Server.Audit;

public class ExplainInput : NetCoreInput
{
    [Description("A decision id (d-…), migration id (m-…), operation id (o-…) or a signal's id, as `history` and the state topic show them")]
    public string Id { get; set; } = "";

    [Description("Look only in this user's history (default: every user's)")]
    public string? UserFlag { get; set; }

    [Description("Print JSON, as GET /api/explain/{id} answers")]
    public bool JsonFlag { get; set; }
}

[Description("Why a move happened: the signals, the seat inferred, the rule and the alternatives turned down, the commands sent and the outcome", Name = "explain")]
public sealed class ExplainCommand : JasperFxAsyncCommand<ExplainInput>
{
    public ExplainCommand()
    {
        Usage("Explain a decision, migration or operation").Arguments(x => x.Id);
    }

    public override Task<bool> Execute(ExplainInput input) =>
        AuditCli.AnswerAsync(input, input.JsonFlag, (session, policy) => AuditQueries.ExplainAsync(session, policy, input.Id, input.UserFlag, default), e => e.Text);
}

public class HistoryInput : NetCoreInput
{
    [Description("The user, e.g. alice")]
    public string User { get; set; } = "";

    [Description("From this instant (inclusive): 2026-11-25T09:15:00Z, or a local date-time or date in the house's time zone")]
    public string? SinceFlag { get; set; }

    [Description("Until this instant (exclusive), in the same forms as --since")]
    public string? UntilFlag { get; set; }

    [Description("Print JSON, as GET /api/users/{user}/history answers")]
    public bool JsonFlag { get; set; }
}

[Description("A user's signals, decisions and outcomes in a window of the house's time, one line each", Name = "history")]
public sealed class HistoryCommand : JasperFxAsyncCommand<HistoryInput>
{
    public HistoryCommand()
    {
        Usage("A user's history").Arguments(x => x.User);
    }

    public override Task<bool> Execute(HistoryInput input) =>
        AuditCli.AnswerAsync(input, input.JsonFlag, (session, policy) => AuditQueries.HistoryAsync(session, policy, input.User, input.SinceFlag, input.UntilFlag, default), h => h.Text);
}

public class StateInput : NetCoreInput
{
    [Description("The user, e.g. alice")]
    public string User { get; set; } = "";

    [Description("The instant: 2026-11-25T09:15:00Z, one with an offset, or a local date-time or date in the house's time zone")]
    public string? AtFlag { get; set; }

    [Description("Print JSON, as GET /api/users/{user}/state?at= answers")]
    public bool JsonFlag { get; set; }
}

[Description("Time travel: a user's seat, VM host, mode and pending moves as they were at an instant of the house's time", Name = "state")]
public sealed class StateCommand : JasperFxAsyncCommand<StateInput>
{
    public StateCommand()
    {
        Usage("A user's state at an instant").Arguments(x => x.User);
    }

    public override Task<bool> Execute(StateInput input) =>
        AuditCli.AnswerAsync(input, input.JsonFlag, (session, policy) => AuditQueries.StateAsync(session, policy, input.User, input.AtFlag, default), s => s.Text);
}

/// <summary>What the audit verbs share: the host's store and house, plain text or the HTTP API's JSON, errors on stderr.</summary>
internal static class AuditCli
{
    public static async Task<bool> AnswerAsync<T>(NetCoreInput input, bool json, Func<IQuerySession, HousePolicy, Task<T>> query, Func<T, string> text)
    {
        // The host was built by the command line (Program.cs) and is not started: the verbs need the store, not the
        // broker or the bus, so they can run beside a running server.
        var host = input.BuildHost();
        var store = host.Services.GetRequiredService<IDocumentStore>();
        var policy = host.Services.GetRequiredService<HousePolicy>();
        await using var session = store.QuerySession();
        try
        {
            var answer = await query(session, policy);
            if (json)
            {
                var options = new JsonSerializerOptions(host.Services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions) { WriteIndented = true };
                Console.Out.WriteLine(JsonSerializer.Serialize(answer, options));
            }
            else
            {
                Console.Out.WriteLine(text(answer));
            }

            return true;
        }
        catch (AuditException e)
        {
            Console.Error.WriteLine($"presence: {e.Message}");
            return false;
        }
    }
}
