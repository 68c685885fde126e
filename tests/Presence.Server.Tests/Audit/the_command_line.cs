using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Audit;

/// <summary>
/// The server's command line is JasperFx's: Marten's and Wolverine's verbs beside Presence's own, which JasperFx finds
/// by scanning the entry assembly for its command types. Help needs no database.
/// </summary>
public sealed class the_command_line
{
    [Fact]
    public async Task help_lists_presences_verbs_beside_martens_and_wolverines()
    {
        var result = await PresenceCli.RunAsync("help");

        Assert.True(result.ExitCode == 0, result.Output);
        foreach (var verb in new[] { "explain", "history", "state", "schema", "demo", "db-apply", "db-dump", "projections", "codegen" })
        {
            Assert.Contains($"  {verb} ", result.Stdout);
        }
    }

    [Theory]
    [InlineData("explain", "--user", "--json")]
    [InlineData("history", "--since", "--until")]
    [InlineData("state", "--at", "--json")]
    [InlineData("schema", "--check", "--output")]
    public async Task each_verb_explains_itself(string verb, string flag, string another)
    {
        var result = await PresenceCli.RunAsync(verb, "--help");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains(flag, result.Stdout);
        Assert.Contains(another, result.Stdout);
    }

    [Fact]
    public async Task dash_dash_help_alone_is_help()
    {
        var result = await PresenceCli.RunAsync("--help");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("  explain ", result.Stdout);
    }
}
