using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Presence.Domain.House;
using Presence.Domain.Placement;
using Presence.Domain.Signals;
using Presence.Server.Mqtt;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.HomeAssistant;

/// <summary>
/// The automation level changes while Presence runs (issue 12 §1): HA's Automation select and the contract's
/// `{"action":"automation","level":…}` request record an AutomationLevelChanged with who asked, the next decision
/// uses it (a seat change now waits as a proposal), and HA's select and the user's state topic show the level that
/// holds. A level that does not exist is refused on presence/errors and nothing changes.
/// </summary>
public sealed class setting_the_automation_level
{
    [Fact]
    public async Task from_home_assistants_select_and_from_a_request_and_the_next_decision_uses_it()
    {
        await using var house = await RunningHouse.StartAsync(TestHouse.Json, ("basement", [("alice-desktop", 2048)]), ("imac", []));
        await using var ha = await MqttProbe.ConnectAsAsync(house.Server.MqttPort, "ha-automation", "homeassistant",
            "presence/errors", "presence/ha/person/alice/events");
        await StateAsync(house, "presence/ha/person/alice/automation", "automatic");

        await ha.PublishAsync("presence/ha/person/alice/automation/set", "recommend");
        await StateAsync(house, "presence/ha/person/alice/automation", "recommend");
        await Eventually.TrueAsync(async () => await AutomationOnStateTopicAsync(house) == "recommend", "alice's state topic says recommend");
        var changed = (await house.StreamAsync("alice")).OfType<AutomationLevelChanged>().Single();
        Assert.Equal((AutomationLevel.Recommend, AutomationLevel.Automatic), (changed.Level, changed.Was));
        Assert.Contains((await house.StreamAsync("alice")).OfType<SignalRecorded>(), s => s.Evidence.Id == changed.EvidenceId
            && s.Evidence.Detail("action") == "automation" && s.Evidence.Detail("level") == "recommend" && s.Evidence.Detail("by") == "homeassistant");
        await ha.WaitForAsync(r => r.Topic.EndsWith("/events", StringComparison.Ordinal) && r.Json.GetProperty("event_type").GetString() == "automation",
            what: "the automation event for HA's automations");

        // The next seat change is proposed, not carried out: the level set at run time is the one the decider uses.
        await house.PublishAsHostAsync("imac", "presence/hosts/imac/signals/session", """{"id":"login-1","user":"alice","state":"login","seat":"console"}""");
        await StateAsync(house, "presence/ha/person/alice/proposal", "imac");
        Assert.Equal("basement", (await house.SagaAsync("alice"))!.VmHost);

        await ha.PublishAsync("presence/ha/person/alice/automation/set", "sometimes");
        var refused = await ha.WaitForAsync(r => r.Topic == "presence/errors" && r.Json.GetProperty("topic").GetString() == "presence/ha/person/alice/automation/set",
            what: "an automation level that does not exist refused");
        Assert.Equal("automation takes one of manual, recommend, automatic, not 'sometimes'", refused.Json.GetProperty("error").GetString());
        Assert.Equal("recommend", await RetainedAsync(house, "presence/ha/person/alice/automation"));

        // The contract's request does the same from any controller (here the command line's identity).
        await using (var cli = await MqttProbe.ConnectAsAsync(house.Server.MqttPort, "cli-automation", "presence-cli"))
        {
            await cli.PublishAsync("presence/users/alice/requests", """{"action":"automation"}""");
            var missing = await ha.WaitForAsync(r => r.Topic == "presence/errors" && r.Json.GetProperty("topic").GetString() == "presence/users/alice/requests",
                what: "an automation request without a level refused");
            Assert.Contains("'level'", missing.Json.GetProperty("error").GetString());

            await cli.PublishAsync("presence/users/alice/requests", """{"action":"automation","level":"manual","id":"r-manual"}""");
        }

        await StateAsync(house, "presence/ha/person/alice/automation", "manual");
        await Eventually.TrueAsync(async () => await AutomationOnStateTopicAsync(house) == "manual", "alice's state topic says manual");
        Assert.Equal([AutomationLevel.Recommend, AutomationLevel.Manual], (await house.StreamAsync("alice")).OfType<AutomationLevelChanged>().Select(c => c.Level));
    }

    private static async Task<string?> AutomationOnStateTopicAsync(RunningHouse house) =>
        await RetainedAsync(house, "presence/users/alice/state") is { } json
        && JsonDocument.Parse(json).RootElement.TryGetProperty("automation", out var level) ? level.GetString() : null;

    private static async Task<string?> RetainedAsync(RunningHouse running, string topic)
    {
        var retained = await running.Server.Services.GetServices<IHostedService>().OfType<EmbeddedBroker>().Single().RetainedAsync();
        return retained.Where(r => r.Topic == topic).Select(r => Encoding.UTF8.GetString(r.Payload)).FirstOrDefault();
    }

    private static Task StateAsync(RunningHouse house, string topic, string value) =>
        Eventually.TrueAsync(async () => await RetainedAsync(house, topic) == value, $"{topic} = {value}, retained", TimeSpan.FromSeconds(60));
}
