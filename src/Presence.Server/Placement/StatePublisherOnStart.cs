using Presence.Domain.House;
using Wolverine;

namespace Presence.Server.Placement;

/// <summary>
/// Retained state does not survive an embedded broker's restart, and a new Home Assistant needs it at once:
/// queue a state publication for every user when the server starts.
/// </summary>
public sealed class StatePublisherOnStart(IServiceScopeFactory scopes, HousePolicy policy, IHostApplicationLifetime lifetime) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() => _ = Task.Run(async () =>
        {
            await using var scope = scopes.CreateAsyncScope();
            var bus = scope.ServiceProvider.GetRequiredService<IMessageBus>();
            foreach (var user in policy.Users)
            {
                await bus.PublishAsync(new PublishUserState(user.Name));
            }
        }));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
