using JasperFx.CodeGeneration;
using JasperFx.CodeGeneration.Model;
using Microsoft.Extensions.DependencyInjection;
using Presence.Server.Hosting;
using Presence.Server.Tests.Infrastructure;
using Wolverine;

namespace Presence.Server.Tests.Hosting;

/// <summary>
/// The server runs Wolverine's handler code from src/Presence.Server/Internal/Generated (TypeLoadMode.Static), and
/// nothing in Wolverine notices when that code no longer matches the handlers. This regenerates it in memory from
/// the server's own configuration and compares it with the checked-in folder, file by file.
/// </summary>
/// <remarks>
/// Alone, after every parallel test: JasperFx's DynamicCodeBuilder raises a process-wide flag
/// (WithinCodegenCommand) while it writes, and a Wolverine host that starts meanwhile takes itself for the codegen
/// command and boots MediatorOnly, so another test's server refused its first cascaded message (CI, 2026-12-08).
/// </remarks>
[Collection(Collection)]
public sealed class the_generated_handler_code
{
    public const string Collection = "codegen, alone";

    [Fact]
    public void the_checked_in_code_is_what_codegen_writes_today()
    {
        var checkedIn = Repository.PathOf(GeneratedCode.RelativePath.Split('/'));
        var fresh = PostgresCluster.NewScratchDirectory("codegen");

        var written = Regenerate(fresh);

        Assert.NotEmpty(written);
        var expected = Files(fresh);
        var actual = Files(checkedIn);
        var missing = expected.Keys.Except(actual.Keys).Order().ToList();
        var extra = actual.Keys.Except(expected.Keys).Order().ToList();
        var changed = expected.Keys.Intersect(actual.Keys).Where(f => expected[f] != actual[f]).Order().ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0 && changed.Count == 0,
            $"{GeneratedCode.RelativePath} is stale: the handlers no longer match the checked-in generated code " +
            $"(missing: {Names(missing)}; no longer generated: {Names(extra)}; different: {Names(changed)}). " +
            $"Regenerate it from the repository root with: {GeneratedCode.Regenerate}");
    }

    /// <summary>
    /// What `codegen write` does (JasperFx's GenerateCodeCommand), from the server built as Program.cs builds it
    /// (not started), into <paramref name="folder"/>.
    /// </summary>
    private static IReadOnlyList<string> Regenerate(string folder)
    {
        // The default house beside the binaries, named so that a PRESENCE_CONFIG in the environment cannot swap it;
        // no database is opened.
        var builder = PresenceApp.CreateBuilder(["--config", Path.Combine(AppContext.BaseDirectory, "appsettings.json")]);
        PresenceApp.ConfigureServices(builder, "Host=127.0.0.1;Port=1;Database=presence_unopened");
        builder.Services.WriteGeneratedCodeTo(folder);
        // In Static mode Wolverine takes its list of handlers from the checked-in GeneratedHandlerRegistry instead of
        // scanning the assembly, so a new handler would never show up here. Dynamic mode scans, and is the only place
        // that mode is used. Nothing is compiled: the host is only built.
        builder.Services.ConfigureWolverine(opts => opts.CodeGeneration.TypeLoadMode = TypeLoadMode.Dynamic);
        using var app = builder.Build();

        var services = app.Services;
        var written = new List<string>();
        new DynamicCodeBuilder(services, services.GetServices<ICodeFileCollection>().ToArray())
        {
            ServiceVariableSource = services.GetService<IServiceVariableSource>(),
        }.WriteGeneratedCode(written.Add);
        return written;
    }

    private static Dictionary<string, string> Files(string folder) => Directory.Exists(folder)
        ? Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(folder, f).Replace('\\', '/'), f => File.ReadAllText(f).ReplaceLineEndings("\n"))
        : [];

    private static string Names(IReadOnlyList<string> files) => files.Count == 0 ? "none" : string.Join(", ", files);
}

[CollectionDefinition(the_generated_handler_code.Collection, DisableParallelization = true)]
public sealed class CodegenAlone;

