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

    [Fact]
    public async Task a_verb_prints_its_answer_without_jasperfxs_search_lines()
    {
        var result = await PresenceCli.RunAsync("schema", "--check");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.DoesNotContain("for commands", result.Output);
        Assert.DoesNotContain("Searching '", result.Output);
    }

    [Fact]
    public async Task the_demo_takes_its_flags_through_the_same_command_line()
    {
        var help = await PresenceCli.RunAsync("demo", "--help");
        Assert.True(help.ExitCode == 0, help.Output);
        foreach (var flag in new[] { "--speed", "--story", "--export" })
        {
            Assert.Contains(flag, help.Stdout);
        }

        // A story that does not exist is refused before anything starts, naming it and the ones there are.
        var wrong = await PresenceCli.RunAsync("demo", "--story", "nope", "--Demo:Speed=4");
        Assert.Equal(2, wrong.ExitCode);
        Assert.Contains("no demo story 'nope'", wrong.Stderr);
        Assert.Contains("ping-pong", wrong.Stderr);
    }
}
