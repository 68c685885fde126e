using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Presence.Server.HomeAssistant;
using Presence.Server.Hosting;
using Presence.Server.Mqtt;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.HomeAssistant;

/// <summary>
/// Issue 12 §1: Presence appears in Home Assistant through MQTT discovery. What the broker retains is read the way
/// HA reads it and checked against HA's own rules (<see cref="HaRules"/>); HA's birth makes Presence say it all
/// again; a person or computer that left the house file loses its device.
/// </summary>
public sealed class appearing_in_home_assistant(Xunit.Abstractions.ITestOutputHelper output)
{
    private const string Prefix = "homeassistant";

    /// <summary>The test house: a server device, three persons and three computers.</summary>
    private static readonly string[] Devices =
    [
        "presence_server", "presence_person_alice", "presence_person_bob", "presence_person_dave",
        "presence_computer_basement", "presence_computer_imac", "presence_computer_laptop",
    ];

    [Fact]
    public async Task every_config_and_state_follows_home_assistants_rules_and_the_ids_survive_a_restart()
    {
        HaReport report;
        string connectionString;
        await using (var house = await RunningHouse.StartAsync(TestHouse.Json,
                         ("basement", [("alice-desktop", 2048), ("bob-desktop", 1024), ("dave-desktop", 1024)]), ("imac", []), ("laptop", [])))
        {
            connectionString = house.Server.ConnectionString;
            report = await ReadyReportAsync(() => EmbeddedRetainedAsync(house.Server), agents: ["basement", "imac", "laptop"]);

            var all = await EmbeddedRetainedAsync(house.Server);
            output.WriteLine($"{report.Devices.Count} devices, {report.Components.Count} entities, {report.StateTopics.Count} retained state topics, " +
                $"{report.CommandTopics.Count} command topics; configs {report.Devices.Keys.Sum(id => all[$"{Prefix}/device/{id}/config"].Length)} bytes");
            output.WriteLine(Encoding.UTF8.GetString(all[$"{Prefix}/device/presence_person_alice/config"]));
            Assert.True(report.Violations.Count == 0, "Home Assistant would refuse or misread:\n  " + string.Join("\n  ", report.Violations));
            Assert.Equal(Devices.Order(), report.Devices.Keys.Order());
            // Server 2, each person 14, each computer 5 and the laptop's battery.
            Assert.Equal(2 + 3 * 14 + 3 * 5 + 1, report.Components.Count);
            Assert.Equal(
                new Dictionary<string, int> { ["binary_sensor"] = 6, ["button"] = 12, ["event"] = 4, ["select"] = 6, ["sensor"] = 26, ["switch"] = 6 },
                report.Components.GroupBy(c => c.Platform).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count()));

            // Every person and computer hangs off the server device; HA's origin names Presence.
            Assert.All(report.Devices.Where(d => d.Key != "presence_server"), d => Assert.Equal("presence_server", d.Value["via_device"]!.GetValue<string>()));
            Assert.Equal("Alice", report.Devices["presence_person_alice"]["name"]!.GetValue<string>());

            // Every entity goes unavailable with the server; what an agent measures also with its agent.
            Assert.All(report.Components, c => Assert.Contains(Availability(c), t => t == "presence/status"));
            Assert.All(report.Components, c => Assert.Equal("all", c.Config["availability_mode"]!.GetValue<string>()));
            Assert.Equal(["presence/status", "presence/agents/laptop/status"], Availability(Component(report, "presence_computer_laptop", "battery")));
            Assert.Equal(["presence/status"], Availability(Component(report, "presence_computer_laptop", "agent")));

            // The selects offer what a person may choose; hold's state comes from Presence, not from the last click.
            Assert.Equal(["basement"], Options(Component(report, "presence_person_bob", "bring_to")));
            Assert.Equal(["basement", "imac", "laptop", "nowhere"], Options(Component(report, "presence_person_alice", "seat")));
            Assert.False(Component(report, "presence_person_alice", "hold").Config["optimistic"]!.GetValue<bool>());

            // The entity ids HA registers them under at first: what the blueprints' examples name.
            Assert.Equal("switch.alice_hold", Component(report, "presence_person_alice", "hold").Config["default_entity_id"]!.GetValue<string>());
            Assert.Equal("sensor.imac_memory_free", Component(report, "presence_computer_imac", "memory_free").Config["default_entity_id"]!.GetValue<string>());
            Assert.Equal(report.Components.Count, report.Components.Select(c => c.Config["default_entity_id"]!.GetValue<string>()).Distinct().Count());

            // The values are the house's: the VMs run in the basement, nobody sits anywhere yet, the agents are online.
            var retained = await EmbeddedRetainedAsync(house.Server);
            Assert.Equal("basement", Text(retained, "presence/ha/person/alice/desktop"));
            Assert.Equal("nowhere", Text(retained, "presence/ha/person/alice/seat"));
            Assert.Equal("thin_client", Text(retained, "presence/ha/person/alice/mode"));
            Assert.Equal("OFF", Text(retained, "presence/ha/person/alice/hold"));
            Assert.Equal("automatic", Text(retained, "presence/ha/person/alice/automation"));
            Assert.Equal("ON", Text(retained, "presence/ha/computer/imac/agent"));
            Assert.Equal("OFF", Text(retained, "presence/ha/computer/imac/maintenance"));
            Assert.Equal("3", Text(retained, "presence/ha/computer/basement/vms"));
            Assert.True(int.Parse(Text(retained, "presence/ha/computer/basement/memory_free")!) > 0);
            var status = JsonNode.Parse(Text(retained, "presence/status")!)!;
            Assert.Equal("online", status["state"]!.GetValue<string>());
            Assert.Equal(ServerStatus.Version, status["version"]!.GetValue<string>());
            Assert.NotEmpty(report.CommandTopics);
        }

        // Another process on the same store: the same unique ids, so HA makes no `_2` duplicates.
        await using var again = await TestServer.StartAsync(connectionString: connectionString);
        var after = await ReadyReportAsync(() => EmbeddedRetainedAsync(again), agents: []);
        Assert.Equal(report.Components.Select(c => c.UniqueId).Order(), after.Components.Select(c => c.UniqueId).Order());
    }

    [Fact]
    public async Task states_follow_the_house_and_decisions_arrive_as_events()
    {
        await using var house = await RunningHouse.StartAsync(TestHouse.Json,
            ("basement", [("alice-desktop", 2048), ("bob-desktop", 1024), ("dave-desktop", 1024)]), ("imac", []));
        await using var ha = await MqttProbe.ConnectAsAsync(house.Server.MqttPort, "ha-events", "homeassistant", "presence/ha/#");
        await ReadyReportAsync(() => EmbeddedRetainedAsync(house.Server), agents: ["basement", "imac"]);

        await using (var controller = await MqttProbe.ConnectAsAsync(house.Server.MqttPort, "ha-maintenance", "homeassistant"))
        {
            await controller.PublishAsync("presence/hosts/imac/maintenance", """{"id":"m-1","state":"on","reason":"updates"}""");
        }

        await Eventually.TrueAsync(async () => Text(await EmbeddedRetainedAsync(house.Server), "presence/ha/computer/imac/maintenance") == "ON",
            "imac's maintenance switch ON, retained");

        await house.PublishAsHostAsync("imac", "presence/hosts/imac/signals/session", """{"id":"login-1","user":"alice","state":"login","seat":"console"}""");
        await Eventually.TrueAsync(async () => Text(await EmbeddedRetainedAsync(house.Server), "presence/ha/person/alice/seat") == "imac",
            "alice's seat imac, retained");
        var seat = await ha.WaitForAsync(r => r.Topic == "presence/ha/person/alice/events" && r.Json.GetProperty("event_type").GetString() == "seat",
            what: "alice's seat event");
        Assert.False(seat.Retained);
        Assert.Contains("imac", seat.Json.GetProperty("text").GetString());
        var types = Component(await ReadyReportAsync(() => EmbeddedRetainedAsync(house.Server), agents: []), "presence_person_alice", "events")
            .Config["event_types"]!.AsArray().Select(t => t!.GetValue<string>()).ToList();
        Assert.All(ha.All.Where(r => r.Topic == "presence/ha/person/alice/events"), e => Assert.Contains(e.Json.GetProperty("event_type").GetString(), types));

        // Each line once, in the order of alice's lines.
        var seqs = ha.All.Where(r => r.Topic == "presence/ha/person/alice/events").Select(e => e.Json.GetProperty("seq").GetInt64()).ToList();
        Assert.Equal(seqs.Order().Distinct(), seqs);
    }

    [Fact]
    public async Task home_assistants_birth_brings_every_config_and_state_again_and_changes_nothing_else()
    {
        await using var server = await TestServer.StartAsync();
        var before = await ReadyReportAsync(() => EmbeddedRetainedAsync(server), agents: []);
        await using var ha = await MqttProbe.ConnectAsAsync(server.MqttPort, "ha-birth", "homeassistant", $"{Prefix}/#", "presence/ha/#");
        var topics = before.Devices.Keys.Select(id => $"{Prefix}/device/{id}/config").Concat(before.StateTopics).ToList();
        foreach (var topic in topics)
        {
            await ha.WaitForAsync(r => r.Topic == topic && r.Retained, what: $"{topic} retained at subscribing");
        }

        var seen = ha.All.Count;
        var retainedBefore = await HaRetainedAsync(server);
        var events = await server.EventCountAsync();

        // As HA publishes it (const.py DEFAULT_BIRTH: not retained).
        await ha.PublishAsync($"{Prefix}/status", "online");

        foreach (var topic in topics)
        {
            await ha.WaitForAsync(r => r.Topic == topic && ha.All.Skip(seen).Contains(r), what: $"{topic} again after the birth");
        }

        Assert.Equal(retainedBefore, await HaRetainedAsync(server));
        Assert.Equal(events, await server.EventCountAsync());
    }

    [Fact]
    public async Task a_person_or_computer_that_left_the_house_file_loses_its_device_at_the_next_start()
    {
        await using var broker = await ExternalBroker.StartAsync();
        await using var ha = await MqttProbe.ConnectAsync(broker, "ha-removal", "homeassistant", $"{Prefix}/#", "presence/#");
        var connectionString = await PostgresCluster.NewDatabaseAsync("ha-removal");
        await using (var first = await TestServer.StartAsync(broker, connectionString, "test"))
        {
            foreach (var id in Devices)
            {
                await ha.WaitForAsync(r => r.Topic == $"{Prefix}/device/{id}/config" && r.Payload.Length > 0, what: $"{id}'s config");
            }
        }

        // A clean stop says so itself (a crash leaves it to the last will).
        await using (var watcher = await MqttProbe.ConnectAsync(broker, "ha-status", "homeassistant", "presence/status"))
        {
            var status = await watcher.WaitForAsync(r => r.Topic == "presence/status" && r.Retained, what: "presence/status retained");
            Assert.Equal("offline", status.Json.GetProperty("state").GetString());
        }

        var smaller = TestHouse.With(h =>
        {
            h["Hosts"] = new JsonArray(h["Hosts"]!.AsArray().Where(x => x!["Name"]!.GetValue<string>() != "laptop").Select(x => x!.DeepClone()).ToArray());
            h["Users"] = new JsonArray(h["Users"]!.AsArray().Where(x => x!["Name"]!.GetValue<string>() != "bob").Select(x => x!.DeepClone()).ToArray());
            h["Vms"] = new JsonArray(h["Vms"]!.AsArray().Where(x => x!["Name"]!.GetValue<string>() != "bob-desktop").Select(x => x!.DeepClone()).ToArray());
            foreach (var user in h["Users"]!.AsArray())
            {
                user!["AllowedHosts"] = new JsonArray(user["AllowedHosts"]!.AsArray().Where(x => x!.GetValue<string>() != "laptop").Select(x => x!.DeepClone()).ToArray());
            }
        });
        var seen = ha.All.Count;
        await using var second = await TestServer.StartAsync(broker, connectionString, "test", smaller);
        foreach (var gone in new[] { "presence_person_bob", "presence_computer_laptop" })
        {
            await ha.WaitForAsync(r => r.Topic == $"{Prefix}/device/{gone}/config" && r.Payload.Length == 0 && ha.All.Skip(seen).Contains(r),
                what: $"{gone}'s config cleared");
        }

        // Alice stays, and her seat no longer offers the laptop.
        await ha.WaitForAsync(r => r.Topic == $"{Prefix}/device/presence_person_alice/config" && ha.All.Skip(seen).Contains(r)
            && !SeatOptions(r.Payload).Contains("laptop"), what: "alice's config without the laptop");

        // What a Home Assistant that connects now finds: the others, and nothing of bob or the laptop.
        await using var fresh = await MqttProbe.ConnectAsync(broker, "ha-fresh", "homeassistant", $"{Prefix}/device/+/config");
        foreach (var id in Devices.Except(["presence_person_bob", "presence_computer_laptop"]))
        {
            await fresh.WaitForAsync(r => r.Topic == $"{Prefix}/device/{id}/config" && r.Retained, what: $"{id}'s config still retained");
        }

        Assert.DoesNotContain(fresh.All, r => r.Topic.Contains("presence_person_bob") || r.Topic.Contains("presence_computer_laptop"));
        Assert.DoesNotContain("laptop", SeatOptions(fresh.All.Last(r => r.Topic == $"{Prefix}/device/presence_person_alice/config").Payload));
    }

    [Fact]
    public async Task a_server_that_dies_is_shown_offline_by_its_last_will()
    {
        await using var broker = await ExternalBroker.StartAsync();
        await using var ha = await MqttProbe.ConnectAsync(broker, "ha-will", "homeassistant", "presence/status");
        await using var server = await ServerProcess.StartAsync(
            await PostgresCluster.NewDatabaseAsync("ha-will"), broker, PostgresCluster.NewScratchDirectory("ha-will"), "will");
        await ha.WaitForAsync(r => r.Topic == "presence/status" && r.Json.GetProperty("state").GetString() == "online", what: "presence/status online");

        server.Kill();

        var will = await ha.WaitForAsync(r => r.Topic == "presence/status" && r.Json.GetProperty("state").GetString() == "offline", what: "the last will");
        Assert.Equal(ServerStatus.Version, will.Json.GetProperty("version").GetString());
    }

    [Fact]
    public async Task one_of_two_server_nodes_dying_leaves_presence_online()
    {
        await using var broker = await ExternalBroker.StartAsync();
        var database = await PostgresCluster.NewDatabaseAsync("ha-nodes");
        var directory = PostgresCluster.NewScratchDirectory("ha-nodes");
        await using var ha = await MqttProbe.ConnectAsync(broker, "ha-nodes", "homeassistant", "presence/status");
        await using var a = await ServerProcess.StartAsync(database, broker, directory, "node-a");
        await using var b = await ServerProcess.StartAsync(database, broker, directory, "node-b");
        await ha.WaitForAsync(r => r.Topic == "presence/status" && r.Json.GetProperty("state").GetString() == "online", what: "presence/status online");

        a.Kill();

        // The dead node's last will says offline; the living one says online again, so HA shows Presence up.
        var will = await ha.WaitForAsync(r => r.Topic == "presence/status" && r.Json.GetProperty("state").GetString() == "offline", what: "node-a's last will");
        await ha.WaitForAsync(r => r.Topic == "presence/status" && r.Json.GetProperty("state").GetString() == "online"
            && ha.All.SkipWhile(x => x != will).Contains(r), what: "online again from node-b");
        await using var fresh = await MqttProbe.ConnectAsync(broker, "ha-nodes-fresh", "homeassistant", "presence/status");
        var retained = await fresh.WaitForAsync(r => r.Topic == "presence/status" && r.Retained, what: "presence/status retained");
        Assert.Equal("online", retained.Json.GetProperty("state").GetString());
    }

    [Fact]
    public async Task at_mosquitto_the_shipped_acl_lets_home_assistant_send_its_commands()
    {
        await using var broker = await ExternalBroker.StartAsync();
        await using var server = await TestServer.StartAsync(broker, await PostgresCluster.NewDatabaseAsync("ha-acl"), "test");
        await using var homeAssistant = await MqttProbe.ConnectAsync(broker, "ha-acl", "homeassistant", "presence/ha/person/alice/hold");
        await homeAssistant.WaitForAsync(r => r.Payload == "OFF", what: "alice's hold OFF");

        await homeAssistant.PublishAsync("presence/ha/person/alice/hold/set", "ON");

        await homeAssistant.WaitForAsync(r => r.Payload == "ON", what: "alice's hold ON after Home Assistant's command");
        await using var session = server.Store.QuerySession();
        Assert.True((await session.LoadAsync<Presence.Domain.Users.UserSaga>("alice"))!.Held);
    }

    [Fact]
    public async Task switched_off_it_publishes_nothing_for_home_assistant()
    {
        await using var server = await TestServer.StartAsync(settings: ["--HomeAssistant:Enabled=false"]);

        await Eventually.TrueAsync(async () =>
        {
            var retained = await EmbeddedRetainedAsync(server);
            return retained.ContainsKey("presence/status") && new[] { "alice", "bob", "dave" }.All(u => retained.ContainsKey($"presence/users/{u}/state"));
        }, "the server's status and every user's state retained");
        Assert.Empty(await HaRetainedAsync(server));
        Assert.DoesNotContain(server.Services.GetServices<IHostedService>(), s => s is HomeAssistantPublisher);
    }

    [Theory]
    [InlineData("home/+")]
    [InlineData("home//assistant")]
    [InlineData("/homeassistant")]
    [InlineData(" ")]
    public void a_discovery_prefix_mqtt_cannot_carry_stops_the_start_naming_the_key(string prefix)
    {
        var builder = PresenceApp.CreateBuilder(["--config", Repository.PathOf("appsettings.json"), $"--HomeAssistant:DiscoveryPrefix={prefix}"]);

        var refused = Assert.Throws<StartupException>(() => PresenceApp.ConfigureServices(builder, "Host=127.0.0.1;Database=unused"));

        Assert.Contains("HomeAssistant:DiscoveryPrefix", refused.Message);
    }

    /// <summary>
    /// Waits until every device of the house is announced, every state topic its configs name is retained and each
    /// listed agent's status is retained, then reports what HA's rules make of it.
    /// </summary>
    private static Task<HaReport> ReadyReportAsync(Func<Task<Dictionary<string, byte[]>>> retained, IReadOnlyList<string> agents) =>
        Eventually.GetAsync(async () =>
        {
            var now = await retained();
            var report = HaConformance.Check(now, Prefix);
            var ready = report.Devices.Count == Devices.Length
                && report.StateTopics.All(now.ContainsKey)
                && now.ContainsKey("presence/status")
                && agents.All(a => Text(now, $"presence/agents/{a}/status")?.Contains("online") == true
                    && Text(now, $"presence/ha/computer/{a}/memory_free") is { } free && free != "None");
            return ready ? report : null;
        }, "every device announced with its states retained");

    private static async Task<Dictionary<string, byte[]>> EmbeddedRetainedAsync(TestServer server) =>
        (await server.Services.GetServices<IHostedService>().OfType<EmbeddedBroker>().Single().RetainedAsync())
        .ToDictionary(r => r.Topic, r => r.Payload);

    /// <summary>Everything retained for Home Assistant: its configs and Presence's HA state topics, as text.</summary>
    private static async Task<Dictionary<string, string>> HaRetainedAsync(TestServer server) =>
        (await EmbeddedRetainedAsync(server))
        .Where(r => r.Key.StartsWith(Prefix + "/", StringComparison.Ordinal) || r.Key.StartsWith("presence/ha/", StringComparison.Ordinal))
        .ToDictionary(r => r.Key, r => Encoding.UTF8.GetString(r.Value));

    private static string? Text(IReadOnlyDictionary<string, byte[]> retained, string topic) =>
        retained.TryGetValue(topic, out var payload) ? Encoding.UTF8.GetString(payload) : null;

    private static HaComponent Component(HaReport report, string device, string key) =>
        report.Components.Single(c => c.DeviceId == device && c.Key == key);

    private static List<string> Availability(HaComponent c) =>
        c.Config["availability"]!.AsArray().Select(a => a!["topic"]!.GetValue<string>()).ToList();

    private static List<string> SeatOptions(string config) =>
        JsonNode.Parse(config)!["components"]!["seat"]!["options"]!.AsArray().Select(o => o!.GetValue<string>()).ToList();

    private static List<string> Options(HaComponent c) =>
        c.Config["options"]!.AsArray().Select(o => o!.GetValue<string>()).ToList();
}
