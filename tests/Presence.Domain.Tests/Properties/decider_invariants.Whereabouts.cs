using CsCheck;

namespace Presence.Domain.Tests.Properties;

public partial class decider_invariants
{
    [Fact]
    public void folding_only_what_may_move_the_vm_tells_where_it_is_as_folding_everything_does()
    {
        // The replay's recorded side folds only these events (Replayer.Run.FoldOriginal): an event that moves the VM
        // and is missing from UserDecider.MayMoveTheVm would show it where the recording no longer had it.
        Histories.Sample((config, ops) =>
        {
            UserSaga? everything = null;
            UserSaga? only = null;
            Walk(config, ops, step =>
            {
                everything ??= step.Before;
                only ??= step.Before;
                foreach (var e in step.Events)
                {
                    everything = UserDecider.Evolve(everything, e);
                    only = UserDecider.MayMoveTheVm(e) ? UserDecider.Evolve(only, e) : only;
                    Assert.True(
                        (everything.VmHost, everything.VmHostConfirmed, everything.Busy, everything.Suspended) == (only.VmHost, only.VmHostConfirmed, only.Busy, only.Suspended),
                        $"after {EventJson.Of(e)}: all folded, the VM is on {everything.VmHost} (confirmed {everything.VmHostConfirmed}, busy {everything.Busy}, " +
                        $"frozen {everything.Suspended}); only what may move it folded, on {only.VmHost} ({only.VmHostConfirmed}, {only.Busy}, {only.Suspended})");
                }
            });
        }, iter: Iterations);
    }
}
