using Presence.Server.Hosting;

namespace Presence.Server.Tests.Hosting;

/// <summary>
/// House settings go to configuration whatever the verb; the rest is JasperFx's, which would reject a setting as an
/// unknown flag.
/// </summary>
public sealed class splitting_the_command_line
{
    [Fact]
    public void the_house_file_and_key_value_overrides_are_settings_and_the_rest_is_the_verb()
    {
        var (settings, verb) = ServerCommandLine.Split(
            ["explain", "d-1", "--config", "house.json", "--ConnectionStrings:Presence=Host=x", "--user", "alice", "--Urls=http://127.0.0.1:0", "--json"]);

        Assert.Equal(["--config", "house.json", "--ConnectionStrings:Presence=Host=x", "--Urls=http://127.0.0.1:0"], settings);
        Assert.Equal(["explain", "d-1", "--user", "alice", "--json"], verb);
    }

    [Fact]
    public void with_no_verb_only_settings_remain_and_the_server_runs_as_before()
    {
        var (settings, verb) = ServerCommandLine.Split(["--config=house.json", "--Mqtt:Port=1884"]);

        Assert.Equal(["--config=house.json", "--Mqtt:Port=1884"], settings);
        Assert.Empty(verb);
    }

    [Fact]
    public void lower_case_flags_with_a_value_stay_with_the_verb()
    {
        var (settings, verb) = ServerCommandLine.Split(["history", "alice", "--since=2026-11-25"]);

        Assert.Empty(settings);
        Assert.Equal(["history", "alice", "--since=2026-11-25"], verb);
    }
}
