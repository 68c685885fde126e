using Microsoft.Extensions.Options;
using Presence.Server.Agents;
using Presence.Server.Configuration;

namespace Presence.Server.Tests.Agents;

/// <summary>A VM's memory goes only to the address the house knows for the target (House:Hosts[]:Address, else its name).</summary>
public sealed class vouching_for_a_migration_address
{
    private static HostAddresses Addresses(string broker) => new(
        Options.Create(new HouseOptions
        {
            Hosts =
            [
                new HostOptions { Name = "basement", Address = "192.168.1.10" },
                new HostOptions { Name = "imac" },
            ],
        }),
        Options.Create(new MqttOptions { Host = broker }));

    [Theory]
    [InlineData("basement", "tcp:192.168.1.10:49152")]
    [InlineData("imac", "tcp:imac:49152")]
    [InlineData("imac", "qemu+ssh://imac/system")]
    public void the_known_address_is_vouched_for(string host, string uri) => Assert.Null(Addresses("0.0.0.0").Refusal(host, uri));

    [Theory]
    [InlineData("basement", "tcp:basement:49152", "basement's incoming_uri 'tcp:basement:49152' is not at the address the house knows for it (192.168.1.10; House:Hosts[]:Address)")]
    [InlineData("imac", "tcp:10.66.66.66:4444", "imac's incoming_uri 'tcp:10.66.66.66:4444' is not at the address the house knows for it (imac; House:Hosts[]:Address)")]
    [InlineData("imac", "tcp:127.0.0.1:4444", "imac's incoming_uri 'tcp:127.0.0.1:4444' is not at the address the house knows for it (imac; House:Hosts[]:Address)")]
    [InlineData("imac", "exec:cat > /tmp/alice", "imac's incoming_uri 'exec:cat > /tmp/alice' names no address")]
    [InlineData("attic", "tcp:attic:1", "attic is not a host of the house (House:Hosts)")]
    public void anything_else_is_refused_with_why(string host, string uri, string refusal) =>
        Assert.Equal(refusal, Addresses("0.0.0.0").Refusal(host, uri));

    [Fact]
    public void loopback_is_anyones_only_while_the_broker_is_loopback_only()
    {
        Assert.Null(Addresses("127.0.0.1").Refusal("imac", "tcp:127.0.0.1:4444"));
        Assert.Null(Addresses("localhost").Refusal("basement", "tcp:[::1]:4444"));
        Assert.NotNull(Addresses("192.168.1.10").Refusal("imac", "tcp:127.0.0.1:4444"));
    }
}
