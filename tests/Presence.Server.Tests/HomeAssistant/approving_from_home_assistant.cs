using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Presence.Domain.Placement;
using Presence.Domain.Signals;
using Presence.Server.Mqtt;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.HomeAssistant;

/// <summary>
/// A user at automation level `recommend`: the proposal waits in Home Assistant (its sensor and attributes, a
/// `proposal` event), and HA's approve button answers the decision waiting now, recorded as asked by `homeassistant`.
/// </summary>
public sealed class approving_from_home_assistant
{
    [Fact]
    public async Task a_proposal_waits_in_home_assistant_and_its_approve_button_answers_it()
    {
        var recommend = TestHouse.With(h => h["Users"]![0]!["Automation"] = "Recommend");
        await using var proposing = await RunningHouse.StartAsync(recommend, ("basement", [("alice-desktop", 2048)]), ("imac", []));
        await using var controller = await MqttProbe.ConnectAsAsync(proposing.Server.MqttPort, "ha-approve", "homeassistant", "presence/ha/person/alice/events");
        await Eventually.TrueAsync(async () => await RetainedAsync(proposing, "presence/ha/person/alice/proposal") == "nothing", "no proposal yet");

        await proposing.PublishAsHostAsync("imac", "presence/hosts/imac/signals/session", """{"id":"login-1","user":"alice","state":"login","seat":"console"}""");
        await Eventually.TrueAsync(async () => await RetainedAsync(proposing, "presence/ha/person/alice/proposal") == "imac", "the proposal to bring alice's desktop to the imac",
            TimeSpan.FromSeconds(60));
        // The attributes are a retained topic of their own, published just after the state (CI once read the old `{}`).
        var json = await Eventually.GetAsync(async () =>
            await RetainedAsync(proposing, "presence/ha/person/alice/proposal/attributes") is { } a && a.Contains("\"decision_id\"", StringComparison.Ordinal) ? a : null,
            "the proposal's attributes");
        var attributes = System.Text.Json.JsonDocument.Parse(json).RootElement;
        var decision = attributes.GetProperty("decision_id").GetString()!;
        Assert.False(string.IsNullOrEmpty(attributes.GetProperty("reason").GetString()));
        await controller.WaitForAsync(r => r.Json.GetProperty("event_type").GetString() == "proposal" && r.Json.GetProperty("decision_id").GetString() == decision,
            what: "the proposal event");

        await controller.PublishAsync("presence/ha/person/alice/approve/press", "PRESS");

        await controller.WaitForAsync(r => r.Json.GetProperty("event_type").GetString() == "answered" && r.Json.GetProperty("decision_id").GetString() == decision,
            what: "the answered event");
        var answered = (await proposing.StreamAsync("alice")).OfType<ProposalAnswered>().Single(a => a.DecisionId == decision);
        Assert.True(answered.Approved);
        Assert.Contains((await proposing.StreamAsync("alice")).OfType<SignalRecorded>(),
            s => s.Evidence.Detail("action") == "approve" && s.Evidence.Detail("decision_id") == decision && s.Evidence.Detail("by") == "homeassistant");
    }

    private static async Task<string?> RetainedAsync(RunningHouse running, string topic)
    {
        var retained = await running.Server.Services.GetServices<IHostedService>().OfType<EmbeddedBroker>().Single().RetainedAsync();
        return retained.Where(r => r.Topic == topic).Select(r => Encoding.UTF8.GetString(r.Payload)).FirstOrDefault();
    }
}
