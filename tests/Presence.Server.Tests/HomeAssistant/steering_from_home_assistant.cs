using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Presence.Domain.Hosts;
using Presence.Domain.Signals;
using Presence.Server.Mqtt;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.HomeAssistant;

/// <summary>
/// Issue 12 §2, first part: Home Assistant's controls published as HA publishes them (a select's option, ON/OFF,
/// PRESS) move, hold and release a desktop, send it home and switch maintenance, through the request handlers,
/// recorded as asked by `homeassistant`; a control Presence cannot carry out is refused on presence/errors and the
/// entity keeps Presence's state.
/// </summary>
public sealed class steering_from_home_assistant : IAsyncLifetime
{
    private readonly string shared = PostgresCluster.NewScratchDirectory("shared");
    private RunningHouse house = null!;
    private MqttProbe ha = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(shared);
        house = await RunningHouse.StartAsync(TestHouse.WithPolicy(("SharedStorage", $"\"{shared}\"")), ("basement", [("alice-desktop", 2048), ("bob-desktop", 1024)]), ("imac", []));
        ha = await MqttProbe.ConnectAsAsync(house.Server.MqttPort, "ha-controls", "homeassistant", "presence/errors");
        await StateAsync("presence/ha/person/alice/desktop", "basement");
    }

    public async Task DisposeAsync()
    {
        await ha.DisposeAsync();
        await house.DisposeAsync();
    }

    [Fact]
    public async Task each_control_changes_what_it_should_and_the_entities_follow()
    {
        await ha.PublishAsync("presence/ha/person/alice/bring_to/set", "imac");
        await StateAsync("presence/ha/person/alice/desktop", "imac");
        await StateAsync("presence/ha/person/alice/bring_to", "imac");
        Assert.Equal("imac", (await house.SagaAsync("alice"))!.VmHost);
        var asked = (await house.StreamAsync("alice")).OfType<SignalRecorded>().Select(s => s.Evidence).Where(e => e.Kind == EvidenceKind.Request).ToList();
        Assert.Contains(asked, e => e.Detail("action") == "move" && e.Detail("target") == "imac" && e.Detail("by") == "homeassistant");

        await ha.PublishAsync("presence/ha/person/alice/hold/set", "ON");
        await StateAsync("presence/ha/person/alice/hold", "ON");
        await StateAsync("presence/ha/person/alice/mode", "held");

        await ha.PublishAsync("presence/ha/person/alice/follow_me/press", "PRESS");
        await StateAsync("presence/ha/person/alice/hold", "OFF");

        await ha.PublishAsync("presence/ha/person/alice/hold/set", "ON");
        await StateAsync("presence/ha/person/alice/hold", "ON");
        await ha.PublishAsync("presence/ha/person/alice/hold/set", "OFF");
        await StateAsync("presence/ha/person/alice/hold", "OFF");

        await ha.PublishAsync("presence/ha/person/alice/send_home/press", "PRESS");
        await StateAsync("presence/ha/person/alice/desktop", "basement");
        Assert.Contains((await house.StreamAsync("alice")).OfType<SignalRecorded>(),
            s => s.Evidence.Detail("action") == "home" && s.Evidence.Detail("by") == "homeassistant");

        // Maintenance evacuates the iMac (alice sits nowhere: her VM is moved or frozen), and its switch shows it.
        await ha.PublishAsync("presence/ha/person/alice/bring_to/set", "imac");
        await StateAsync("presence/ha/person/alice/desktop", "imac");
        await StateAsync("presence/ha/person/alice/moving", "OFF");
        await ha.PublishAsync("presence/ha/computer/imac/maintenance/set", "ON");
        await StateAsync("presence/ha/computer/imac/maintenance", "ON");
        await Eventually.TrueAsync(async () => await RetainedAsync("presence/ha/person/alice/desktop") is "basement" or "suspended",
            "alice's desktop off the iMac", TimeSpan.FromSeconds(60));
        await using (var session = house.Server.Store.QuerySession())
        {
            Assert.True((await session.LoadAsync<HostState>(HostState.StreamId("imac")))!.InMaintenance);
        }

        await ha.PublishAsync("presence/ha/computer/imac/maintenance/set", "OFF");
        await StateAsync("presence/ha/computer/imac/maintenance", "OFF");
    }

    [Fact]
    public async Task a_control_presence_cannot_carry_out_is_refused_and_the_entity_keeps_its_state()
    {
        // The state the entity must keep, published before the control that is refused: the first pass of the
        // publisher may still be under way once alice's desktop is there (InitializeAsync).
        await StateAsync("presence/ha/person/bob/bring_to", "basement");
        await ha.PublishAsync("presence/ha/person/bob/bring_to/set", "imac");
        var refused = await ha.WaitForAsync(r => r.Topic == "presence/errors" && r.Json.GetProperty("topic").GetString() == "presence/ha/person/bob/bring_to/set",
            what: "bob's move refused");
        Assert.Contains("allowed hosts", refused.Json.GetProperty("error").GetString());

        await ha.PublishAsync("presence/ha/person/alice/approve/press", "PRESS");
        var nothing = await ha.WaitForAsync(r => r.Topic == "presence/errors" && r.Json.GetProperty("topic").GetString() == "presence/ha/person/alice/approve/press",
            what: "an approval with no proposal refused");
        Assert.Contains("no proposal waits for alice's approval", nothing.Json.GetProperty("error").GetString());

        await ha.PublishAsync("presence/ha/person/alice/hold/set", "maybe");
        var odd = await ha.WaitForAsync(r => r.Topic == "presence/errors" && r.Json.GetProperty("topic").GetString() == "presence/ha/person/alice/hold/set",
            what: "a hold payload that is neither ON nor OFF refused");
        Assert.Contains("ON or OFF", odd.Json.GetProperty("error").GetString());

        // Only Home Assistant's identity may send its commands: they are recorded as asked by it.
        await using (var cli = await MqttProbe.ConnectAsAsync(house.Server.MqttPort, "cli-controls", "presence-cli"))
        {
            await cli.PublishAsync("presence/ha/person/alice/hold/set", "ON");
        }

        var impostor = await ha.WaitForAsync(r => r.Topic == "presence/errors" && r.Json.GetProperty("error").GetString()!.Contains("controller 'homeassistant'"),
            what: "presence-cli's Home Assistant command refused");
        Assert.Equal("presence/ha/person/alice/hold/set", impostor.Json.GetProperty("topic").GetString());

        Assert.Equal("basement", await RetainedAsync("presence/ha/person/bob/bring_to"));
        Assert.Equal("OFF", await RetainedAsync("presence/ha/person/alice/hold"));
        Assert.False((await house.SagaAsync("alice"))?.Held ?? false);
    }

    private async Task<string?> RetainedAsync(string topic)
    {
        var retained = await house.Server.Services.GetServices<IHostedService>().OfType<EmbeddedBroker>().Single().RetainedAsync();
        return retained.Where(r => r.Topic == topic).Select(r => Encoding.UTF8.GetString(r.Payload)).FirstOrDefault();
    }

    private Task StateAsync(string topic, string value) =>
        Eventually.TrueAsync(async () => await RetainedAsync(topic) == value, $"{topic} = {value}, retained", TimeSpan.FromSeconds(60));
}
