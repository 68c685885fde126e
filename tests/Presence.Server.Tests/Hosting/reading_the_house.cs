using Microsoft.Extensions.Configuration;
using Presence.Domain.House;
using Presence.Server.Hosting;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Hosting;

/// <summary>The house file, another house given with --config, and the usual .NET layering on top.</summary>
public sealed class reading_the_house
{
    [Fact]
    public void the_default_house_is_the_repositorys_appsettings_json()
    {
        var builder = PresenceApp.CreateBuilder([]);
        var (policy, house, _, _) = PresenceApp.ReadSettings(builder.Configuration);

        Assert.Equal(["basement", "imac", "kids", "laptop"], policy.Hosts.Select(h => h.Name));
        Assert.Equal("Europe/Berlin", house.TimeZone);
        Assert.Equal(PreferredMode.Local, policy.User("alice")!.PreferredMode);
    }

    [Fact]
    public async Task another_house_replaces_the_default_instead_of_merging_into_it()
    {
        var directory = PostgresCluster.NewScratchDirectory("house");
        Directory.CreateDirectory(directory);
        var file = Path.Combine(directory, "house.json");
        await File.WriteAllTextAsync(file, TestHouse.Json);

        var (policy, _, _, _) = PresenceApp.ReadSettings(PresenceApp.CreateBuilder(["--config", file]).Configuration);

        // The default house has four hosts; merging lists by index would have left "laptop"'s neighbours behind.
        Assert.Equal(["basement", "imac", "laptop"], policy.Hosts.Select(h => h.Name));
    }

    [Fact]
    public async Task a_house_file_that_is_not_json_is_refused_saying_where_it_breaks()
    {
        var directory = PostgresCluster.NewScratchDirectory("house");
        Directory.CreateDirectory(directory);
        var file = Path.Combine(directory, "house.json");
        await File.WriteAllTextAsync(file, "{\n  \"House\": {\n    \"Hosts\": [ { \"Name\": \"basement\" ]\n  }\n}\n");

        var refused = Assert.Throws<StartupException>(() => PresenceApp.CreateBuilder(["--config", file]));
        Assert.Equal($"house file '{file}' is not valid JSON: ']' is invalid without a matching open (line 3, column 37)", refused.Message);

        // As a person runs it: one line and the settings' exit code, not a crash.
        var run = await PresenceCli.RunAsync("--config", file);
        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}\n{run.Output}");
        Assert.Contains($"presence: house file '{file}' is not valid JSON", run.Stderr);
        Assert.DoesNotContain("Unhandled exception", run.Output);
    }

    [Fact]
    public void the_saga_timeouts_come_from_the_house_file()
    {
        var builder = PresenceApp.CreateBuilder(["--House:Policy:PrepareTimeout=45s", "--House:Policy:DisplayTimeout=0s"]);
        var (policy, _, _, _) = PresenceApp.ReadSettings(builder.Configuration);

        Assert.Equal(NodaTime.Duration.FromSeconds(45), policy.Settings.PrepareTimeout);
        Assert.Equal(NodaTime.Duration.FromSeconds(60), policy.Settings.MigrationTimeout);
        Assert.Equal(NodaTime.Duration.FromMinutes(5), policy.Settings.SuspendTimeout);
        Assert.Equal(NodaTime.Duration.FromMinutes(5), policy.Settings.ResumeTimeout);
        Assert.Equal(NodaTime.Duration.Zero, policy.Settings.DisplayTimeout);
        Assert.Equal(NodaTime.Duration.FromSeconds(2), policy.Settings.ProgressInterval);
    }

    [Fact]
    public void command_line_keys_override_the_file()
    {
        var builder = PresenceApp.CreateBuilder(["--Mqtt:Port=1999", "--House:Vms:0:MemoryMb=1234"]);
        var (policy, _, mqtt, _) = PresenceApp.ReadSettings(builder.Configuration);

        Assert.Equal(1999, mqtt.Port);
        Assert.Equal(1234, policy.Vm("alice-desktop")!.MemoryMb);
    }

    [Theory]
    [InlineData("--House:Hosts:0:Name=Basement Server", "House:Hosts:0:Name 'Basement Server' must match")]
    [InlineData("--House:Hosts:1:LinkMbps=0", "House:Hosts:1:LinkMbps must be > 0")]
    [InlineData("--House:Hosts:1:Address=imac upstairs", "House:Hosts:1:Address 'imac upstairs' is not a host name or IP address")]
    [InlineData("--House:Users:0:Vm=nothing", "House:Users:0:Vm 'nothing' is not one of House:Vms")]
    [InlineData("--House:Users:0:AllowedHosts:0=attic", "House:Users:0:AllowedHosts:0 'attic' is not one of House:Hosts")]
    [InlineData("--House:Vms:1:Owner=zed", "House:Vms:1:Owner 'zed' is not one of House:Users")]
    [InlineData("--House:TimeZone=Mars/Olympus", "House:TimeZone 'Mars/Olympus' is not a tz database zone")]
    [InlineData("--House:Policy:DowntimeLimit=soon", "House:Policy:DowntimeLimit 'soon' must be a positive duration")]
    [InlineData("--House:Policy:PrepareTimeout=never", "House:Policy:PrepareTimeout 'never' must be a duration")]
    [InlineData("--House:Policy:MigrationTimeout=-1m", "House:Policy:MigrationTimeout '-1m' must be a duration")]
    [InlineData("--House:Policy:ProgressInterval=often", "House:Policy:ProgressInterval 'often' must be a duration")]
    [InlineData("--Mqtt:MaxSkew=-5m", "Mqtt:MaxSkew '-5m' must be a positive duration")]
    [InlineData("--Mqtt:Port=70000", "Mqtt:Port must be 0–65535")]
    [InlineData("--House:Hosts:0:Role=Mainframe", "'House:Hosts:0:Role'")]
    [InlineData("--Mqtt:Port=many", "'Mqtt:Port'")]
    [InlineData("--Mqtt:TopicRoot=presence/#", "Mqtt:TopicRoot 'presence/#' must be non-empty")]
    [InlineData("--Mqtt:SharedGroup=presence", "Mqtt:SharedGroup 'presence' needs Mqtt:Broker=External")]
    [InlineData("--Mqtt:SharedGroup=two words", "Mqtt:SharedGroup 'two words' must match")]
    [InlineData("--Database:Schema=my house", "Database:Schema 'my house' must be")]
    [InlineData("--Database:Schema=Presence", "Database:Schema 'Presence' must be")]
    [InlineData("--Database:Schema=presence;drop", "Database:Schema 'presence;drop' must be")]
    public void a_bad_value_is_refused_naming_its_key(string argument, string message)
    {
        var builder = PresenceApp.CreateBuilder([argument]);

        var error = Assert.Throws<StartupException>(() => PresenceApp.ReadSettings(builder.Configuration));
        Assert.Contains(message, error.Message);
    }
}
