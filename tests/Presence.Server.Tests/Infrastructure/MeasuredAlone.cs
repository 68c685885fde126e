namespace Presence.Server.Tests.Infrastructure;

/// <summary>
/// Tests that measure the whole test process (its managed heap after a full GC) run in this collection: xUnit runs it
/// after the parallel ones, with nothing beside it, so another test's allocations are not counted as theirs. CI once
/// saw a 100 MB bound broken by 422 MB that the drill, run alone, never comes near (39 MB).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MeasuredAlone
{
    public const string Name = "measured alone";
}
