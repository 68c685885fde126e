using Marten;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Presence.Domain.Migration;
using Presence.Domain.Users;
using Presence.Server.Migration;
using Presence.Server.Placement;
using Presence.Server.Tests.Infrastructure;
using Wolverine;

namespace Presence.Server.Tests.Mqtt;

/// <summary>
/// The outbound queue publishes in lanes (IPublished): each agent's commands in the order they were sent, a user's
/// state topic one at a time, and lanes without waiting for each other. With one sequential queue a command waited
/// behind every publish queued before it, whoever it was for.
/// </summary>
public sealed class publishing_in_lanes : IAsyncLifetime
{
    private TestServer server = null!;
    private MqttProbe probe = null!;

    public async Task InitializeAsync()
    {
        server = await TestServer.StartAsync();
        probe = await MqttProbe.ConnectAsync(server.MqttPort, "probe-lanes", "presence/agents/+/commands", "presence/users/+/state");
        // Every user's state is published once at start: out of the way before the test counts anything.
        await probe.WaitForAsync(m => m.Topic == "presence/users/dave/state", what: "dave's state from the start");
    }

    public async Task DisposeAsync()
    {
        await probe.DisposeAsync();
        await server.DisposeAsync();
    }

    private IMessageBus Bus => server.Services.GetRequiredService<IMessageBus>();

    private static SendAgentCommand Attach(string host, string id) =>
        new(new CommandToAgent(host, id, CommandKind.AttachDisplay, "alice-desktop", DisplayUri: "spice://basement:5901"));

    [Fact]
    public async Task a_command_for_an_agent_does_not_wait_behind_a_state_topic_that_is_held_up()
    {
        // The state topic is published from the stored saga: while another transaction holds the sagas' table locked,
        // its read waits, and so did everything queued behind it.
        var table = server.Store.Options.Schema.For<UserSaga>();
        await using var locker = new NpgsqlConnection(server.ConnectionString);
        await locker.OpenAsync();
        await using var transaction = await locker.BeginTransactionAsync();
        await using (var lockTable = new NpgsqlCommand($"lock table {table} in access exclusive mode", locker, transaction))
        {
            await lockTable.ExecuteNonQueryAsync();
        }

        var states = probe.All.Count(m => m.Topic == "presence/users/alice/state");
        await Bus.PublishAsync(new PublishUserState("alice"));
        await Bus.PublishAsync(Attach("imac", "lanes-attach"));

        await probe.WaitForAsync(m => m.Topic == "presence/agents/imac/commands" && m.Payload.Contains("lanes-attach"),
            TimeSpan.FromSeconds(20), "the attach_display while alice's state waits for the lock");
        Assert.Equal(states, probe.All.Count(m => m.Topic == "presence/users/alice/state"));

        await transaction.RollbackAsync();
        await Eventually.TrueAsync(() => Task.FromResult(probe.All.Count(m => m.Topic == "presence/users/alice/state") > states),
            "alice's state once the lock is gone");
    }

    [Fact]
    public async Task each_agents_commands_arrive_in_the_order_they_were_sent()
    {
        var hosts = new[] { "basement", "imac", "laptop" };
        const int each = 30;
        for (var i = 0; i < each; i++)
        {
            foreach (var host in hosts)
            {
                await Bus.PublishAsync(Attach(host, $"order-{host}-{i:D3}"));
            }
        }

        foreach (var host in hosts)
        {
            var topic = $"presence/agents/{host}/commands";
            await Eventually.TrueAsync(() => Task.FromResult(probe.All.Count(m => m.Topic == topic) >= each), $"{each} commands at {host}");
            var ids = probe.All.Where(m => m.Topic == topic).Select(m => m.Json.GetProperty("command_id").GetString()).ToList();
            Assert.Equal(Enumerable.Range(0, each).Select(i => $"order-{host}-{i:D3}"), ids);
        }
    }
}
