using JasperFx.CommandLine;
using Marten;
using NodaTime;
using Presence.Domain.Audit;
using Presence.Domain.House;
using Presence.Server.Hosting;

namespace Presence.Server.Replay;

public class ReplayInput : NetCoreInput
{
    [Description("The user whose history is decided again, e.g. alice")]
    public string User { get; set; } = "";

    [Description("From this instant (inclusive): 2026-11-25T09:15:00Z, or a local date-time or date in the house's time zone")]
    public string? FromFlag { get; set; }

    [Description("Until this instant (inclusive), in the same forms as --from")]
    public string? ToFlag { get; set; }

    [Description("Settings to replay under, laid over the house: {\"House\": {\"Policy\": {\"Cooldown\": \"10m\"}}} (or without the \"House\" level)")]
    public string? PolicyFlag { get; set; }

    [Description("Replay a history file (as `export` writes) instead of the event store; its own recorded house is the base")]
    public string? HistoryFlag { get; set; }

    [Description("Print every step, not only those that differ")]
    public bool AllFlag { get; set; }
}

[Description("Counterfactual replay: decide a user's recorded signals again, under the recorded or other settings, and print what would differ; exit 0 when nothing would, 1 when something would", Name = "replay")]
public sealed class ReplayCommand : JasperFxAsyncCommand<ReplayInput>
{
    public ReplayCommand()
    {
        Usage("Replay a user's history").Arguments(x => x.User);
    }

    public override Task<bool> Execute(ReplayInput input) => HistoryVerb.RunAsync(input, "replay", async services =>
    {
        var configuration = services.GetRequiredService<IConfiguration>();
        IReadOnlyList<Recorded> events;
        HousePolicy policy;
        if (input.HistoryFlag is { } file)
        {
            var history = HistoryFile.Read(file);
            if (history.Header.User != input.User)
            {
                throw new StartupException($"'{file}' is the history of '{history.Header.User}', not of '{input.User}'");
            }

            events = history.Events;
            policy = Counterfactual.Policy(history.Header.House is null ? configuration : null, history.Header.House, input.PolicyFlag);
        }
        else
        {
            await using var session = services.GetRequiredService<IDocumentStore>().QuerySession();
            events = await Counterfactual.StoredAsync(session, input.User, default);
            policy = Counterfactual.Policy(configuration, null, input.PolicyFlag);
        }

        var (exit, text, _) = Counterfactual.Run(events, policy, input.FromFlag, input.ToFlag, input.AllFlag);
        return (text, exit);
    }, badInput: Counterfactual.BadInput);
}

public class ExportInput : NetCoreInput
{
    [Description("The user whose history is written, e.g. alice")]
    public string User { get; set; } = "";

    [Description("The file to write (default eventstore/histories/<user>-<date>.jsonl)")]
    public string? OutFlag { get; set; }
}

[Description("Write a user's history, with its audit metadata and the house, as JSON lines", Name = "export")]
public sealed class ExportCommand : JasperFxAsyncCommand<ExportInput>
{
    public ExportCommand()
    {
        Usage("Export a user's history").Arguments(x => x.User);
    }

    public override Task<bool> Execute(ExportInput input) => HistoryVerb.RunAsync(input, "export", async services =>
    {
        var (_, house, _, _) = PresenceApp.ReadSettings(services.GetRequiredService<IConfiguration>());
        await using var session = services.GetRequiredService<IDocumentStore>().QuerySession();
        var now = services.GetRequiredService<IClock>().GetCurrentInstant();
        var (path, count) = await HistoryTransfer.ExportAsync(session, input.User, house, now, input.OutFlag, default);
        return ($"{count} events of {input.User} written to {path}", 0);
    });
}

public class ImportInput : NetCoreInput
{
    [Description("A history file, as `export` writes it")]
    public string File { get; set; } = "";
}

[Description("Add a recorded history to the event store as its user's stream; refused if that user already has one", Name = "import")]
public sealed class ImportCommand : JasperFxAsyncCommand<ImportInput>
{
    public ImportCommand()
    {
        Usage("Import a history file").Arguments(x => x.File);
    }

    public override Task<bool> Execute(ImportInput input) => HistoryVerb.RunAsync(input, "import", async services =>
    {
        await using var session = services.GetRequiredService<IDocumentStore>().LightweightSession();
        var (user, count) = await HistoryTransfer.ImportAsync(session, input.File, default);
        return ($"{count} events imported as the history of {user}", 0);
    });
}

/// <summary>
/// What replay, export and import share: the host's services, the answer alone on stdout, and bad input (a file, a
/// user, settings or an instant) as one line on stderr. The exit code is the verb's own: 0 is success.
/// </summary>
internal static class HistoryVerb
{
    public static async Task<bool> RunAsync(NetCoreInput input, string verb, Func<IServiceProvider, Task<(string Text, int Exit)>> act, int badInput = 1)
    {
        var host = input.BuildHost();
        try
        {
            var (text, exit) = await act(host.Services);
            Console.Out.WriteLine(text.TrimEnd('\n'));
            CommandExit.Code = exit;
            return exit == 0;
        }
        catch (Exception e) when (e is StartupException or HistoryFormatException or AuditException or ArgumentException)
        {
            Console.Error.WriteLine($"presence {verb}: {e.Message}");
            CommandExit.Code = badInput;
            return false;
        }
    }
}
