using JasperFx.CommandLine;
using Marten;

namespace Presence.Server.Schema;

public class SchemaInput : NetCoreInput
{
    [Description("Where to write the DDL (default: eventstore/schema/presence.sql of the repository around the current folder)")]
    public string? OutputFlag { get; set; }

    [Description("Write nothing; fail when the file differs from what the configuration exports")]
    public bool CheckFlag { get; set; }
}

[Description("Export the event store's DDL from Marten's configuration into eventstore/schema/presence.sql (no database needed)", Name = "schema")]
public sealed class SchemaCommand : JasperFxAsyncCommand<SchemaInput>
{
    public override async Task<bool> Execute(SchemaInput input)
    {
        var store = input.BuildHost().Services.GetRequiredService<IDocumentStore>();
        var path = input.OutputFlag ?? (SchemaArtifact.FindRepository(Directory.GetCurrentDirectory()) is { } repo
            ? Path.Combine(repo, SchemaArtifact.RelativePath)
            : null);
        if (path is null)
        {
            await Console.Error.WriteLineAsync($"presence: no Presence.sln in {Directory.GetCurrentDirectory()} or above: run it from the repository, or give --output <file>");
            return false;
        }

        var ddl = SchemaArtifact.Export(store);
        if (input.CheckFlag)
        {
            var current = File.Exists(path) ? await File.ReadAllTextAsync(path) : null;
            if (current != ddl)
            {
                await Console.Error.WriteLineAsync($"presence: {path} is {(current is null ? "missing" : "stale")}; regenerate it with: {SchemaArtifact.Regenerate}");
                return false;
            }

            Console.WriteLine($"{path} is current");
            return true;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await File.WriteAllTextAsync(path, ddl);
        Console.WriteLine($"Wrote {path} ({ddl.Length} characters)");
        return true;
    }
}
