using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Presence.Server.Mqtt;
using Presence.Server.Tests.Infrastructure;
using Wolverine;
using Wolverine.Runtime;

namespace Presence.Server.Tests.HomeAssistant;

/// <summary>
/// A Home Assistant command that fails for a reason of Presence's own (not a refusal, not the database away) is
/// answered on presence/errors like one the house refuses: HA does not press a button twice, so whoever pressed it
/// must learn that nothing happened. The failure is made here by a message bus that breaks on the requests HA's
/// commands become; nothing in the product fails on demand.
/// </summary>
public sealed class a_command_that_fails_inside : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(services: s =>
    {
        TestServer.WithoutSignalWarmup(s);
        s.AddScoped<IMessageBus>(sp => BreaksOnRequests.Around(new MessageContext(sp.GetRequiredService<IWolverineRuntime>())));
    });

    public Task DisposeAsync() => server.DisposeAsync().AsTask();

    [Fact]
    public async Task is_reported_on_presence_errors_with_its_topic()
    {
        await using var ha = await MqttProbe.ConnectAsAsync(server.MqttPort, "ha-failing", "homeassistant",
            "presence/errors", "presence/ha/person/alice/hold");
        // The server's Home Assistant connection takes the commands: once it shows alice's hold it has subscribed (a
        // command published before that reaches no one, as CI once found under load).
        await ha.WaitForAsync(m => m.Topic == "presence/ha/person/alice/hold", what: "alice's hold in Home Assistant");

        await ha.PublishAsync("presence/ha/person/alice/hold/set", "ON");

        var error = await ha.WaitForAsync(m => m.Topic == "presence/errors" && m.Json.GetProperty("topic").GetString() == "presence/ha/person/alice/hold/set",
            TimeSpan.FromSeconds(30), "the failure on presence/errors");
        Assert.Equal("internal error while carrying out this command: the bus broke", error.Json.GetProperty("error").GetString());
    }

    /// <summary>Wolverine's own bus, except that invoking a user's request throws.</summary>
    public class BreaksOnRequests : DispatchProxy
    {
        private IMessageBus inner = null!;

        public static IMessageBus Around(IMessageBus bus)
        {
            var proxy = Create<IMessageBus, BreaksOnRequests>();
            ((BreaksOnRequests)(object)proxy).inner = bus;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? method, object?[]? args)
        {
            if (method!.Name == nameof(IMessageBus.InvokeAsync) && args is [UserRequestArrived, ..])
            {
                throw new InvalidOperationException("the bus broke");
            }

            try
            {
                return method.Invoke(inner, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                throw e.InnerException;
            }
        }
    }
}
