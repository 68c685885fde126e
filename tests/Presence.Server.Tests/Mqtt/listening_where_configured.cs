using System.Net;
using System.Net.NetworkInformation;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Mqtt;

/// <summary>The embedded broker listens only where Mqtt:Host says: 127.0.0.1 must not also mean every IPv6 interface.</summary>
public sealed class listening_where_configured
{
    [Fact]
    public async Task a_broker_on_127_0_0_1_listens_on_loopback_only()
    {
        await using var server = await TestServer.StartAsync();

        var listeners = IPGlobalProperties.GetIPGlobalProperties().GetActiveTcpListeners()
            .Where(l => l.Port == server.MqttPort)
            .ToList();

        Assert.NotEmpty(listeners);
        Assert.All(listeners, l => Assert.True(IPAddress.IsLoopback(l.Address), $"the broker also listens on {l}"));
    }
}
