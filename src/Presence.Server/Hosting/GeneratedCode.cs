using Presence.Server.Schema;
using Wolverine;

namespace Presence.Server.Hosting;

/// <summary>
/// Wolverine's handler code, generated ahead of time and compiled into the server (TypeLoadMode.Static), so no
/// message waits for Roslyn. Nothing in Wolverine notices when that code no longer matches the handlers; a test
/// regenerates it in memory and compares it with the checked-in folder.
/// </summary>
public static class GeneratedCode
{
    /// <summary>The folder, relative to the repository, that `codegen write` fills (Wolverine adds WolverineHandlers/).</summary>
    public const string RelativePath = "src/Presence.Server/Internal/Generated";

    /// <summary>
    /// One command from the repository root. The old folder goes first: stale code may no longer compile, and the
    /// server must build before it can write the new code.
    /// </summary>
    public const string Regenerate = "rm -rf " + RelativePath + " && dotnet run --project src/Presence.Server -- codegen write";

    /// <summary>
    /// For the `codegen` verb: the checkout's Internal/Generated. Left to itself JasperFx writes beside the content
    /// root, which is the bin folder here (ContentRootPath = AppContext.BaseDirectory), where the compiler never sees it.
    /// </summary>
    public static string CheckoutFolder()
    {
        var repository = SchemaArtifact.FindRepository(AppContext.BaseDirectory)
            ?? throw new StartupException($"codegen writes into the source checkout, and there is no Presence.sln above {AppContext.BaseDirectory}; run it from a checkout: {Regenerate}");
        return Path.Combine(repository, RelativePath);
    }

    /// <summary>Points Wolverine's generated code at <paramref name="folder"/> (the checkout, or a test's scratch folder).</summary>
    public static IServiceCollection WriteGeneratedCodeTo(this IServiceCollection services, string folder) =>
        services.ConfigureWolverine(opts => opts.CodeGeneration.GeneratedCodeOutputPath = folder);
}
