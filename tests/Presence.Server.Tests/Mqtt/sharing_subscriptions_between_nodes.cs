using Presence.Contracts.Wire;
using Presence.Server.Configuration;

namespace Presence.Server.Tests.Mqtt;

/// <summary>Mqtt:SharedGroup: what the server nodes share through the broker, and what each still hears (Drills/two_server_nodes_sharing_the_work).</summary>
public sealed class sharing_subscriptions_between_nodes
{
    [Fact]
    public void signals_requests_switches_and_answers_are_shared_and_the_retained_status_and_inventory_are_not()
    {
        var options = new MqttOptions { Broker = BrokerKind.External, SharedGroup = "presence" };

        Assert.Equal(
        [
            "$share/presence/presence/hosts/+/signals/+",
            "$share/presence/presence/hosts/+/maintenance",
            "$share/presence/presence/users/+/requests",
            "presence/agents/+/status",
            "presence/agents/+/inventory",
            "$share/presence/presence/agents/+/events",
        ], options.BridgeSubscriptions(new Topics()));
    }

    [Fact]
    public void without_a_group_every_node_hears_everything()
    {
        Assert.Equal(new Topics().ServerSubscriptions, new MqttOptions().BridgeSubscriptions(new Topics()));
    }
}
