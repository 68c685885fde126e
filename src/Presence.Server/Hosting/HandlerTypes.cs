using Wolverine.Runtime;
using Wolverine.Runtime.Handlers;

namespace Presence.Server.Hosting;

/// <summary>
/// Wolverine builds each handler when the first message of its type arrives. With the code pre-generated
/// (TypeLoadMode.Static) that is a type lookup and a constructor rather than a Roslyn compile, but it still lands on
/// the first signal, and a missing generated type would only show then. Loading them all before the bridge
/// subscribes moves both to the start, where a stale build fails loudly instead of rejecting a person's login.
/// </summary>
public static class HandlerTypes
{
    /// <summary>Every handler the server has, built now; the pairs say which message each one handles.</summary>
    public static IReadOnlyList<(Type Message, IMessageHandler Handler)> LoadAll(IWolverineRuntime runtime)
    {
        var handlers = Graph(runtime);
        var loaded = new List<(Type, IMessageHandler)>();
        foreach (var chain in handlers.Chains)
        {
            var handler = handlers.HandlerFor(chain.MessageType)
                ?? throw new InvalidOperationException($"Wolverine has a chain for {chain.MessageType.Name} but no handler for it");
            loaded.Add((chain.MessageType, handler));
        }

        return loaded;
    }

    private static HandlerGraph Graph(IWolverineRuntime runtime) => runtime is WolverineRuntime wolverine
        ? wolverine.Handlers
        : throw new InvalidOperationException($"expected Wolverine's own runtime, got {runtime.GetType().Name}");
}
