using Presence.Agent.Hypervisors.Libvirt;
using Presence.Contracts.Agents;

namespace Presence.Agent.Tests.Libvirt;

public sealed class VirshOutputTests
{
    [Fact]
    public void Virsh_list_of_libvirt_9_gives_each_domain_and_its_state()
    {
        Assert.Equal([new VirshDomain("test", "running")], VirshOutput.ParseList(VirshSamples.ListNew));
    }

    [Fact]
    public void Virsh_list_of_old_libvirt_with_a_long_name_and_a_state_with_a_space()
    {
        Assert.Equal(
            [
                new VirshDomain("alice-desktop", "running"),
                new VirshDomain("bob-music", "shut off"),
                new VirshDomain("carol-desktop", "paused"),
                new VirshDomain("a-domain-name-longer-than-thirty", "shut off"),
            ],
            VirshOutput.ParseList(VirshSamples.ListOld));
    }

    [Theory]
    [InlineData("running", VmState.Running)]
    [InlineData("idle", VmState.Running)]
    [InlineData("blocked", VmState.Running)]
    [InlineData("paused", VmState.Paused)]
    [InlineData("pmsuspended", VmState.Suspended)]
    [InlineData("shut off", VmState.Stopped)]
    [InlineData("crashed", VmState.Stopped)]
    public void Libvirt_states_map_to_the_contracts(string virsh, VmState expected)
    {
        Assert.Equal(expected, VirshOutput.ToVmState(virsh));
    }

    [Fact]
    public void Dominfo_memory_is_the_maximum_in_mb()
    {
        Assert.Equal(8192, VirshOutput.ParseDominfoMemoryMb(VirshSamples.Dominfo));
    }

    [Fact]
    public void Domjobinfo_of_new_libvirt_gives_sizes_bandwidth_and_dirty_rate()
    {
        var info = VirshOutput.ParseJobInfo(VirshSamples.JobInfoNew);

        Assert.True(info.Active);
        Assert.Equal((long)Math.Round(2.009 * (1L << 30)), info.DataTotal);
        Assert.Equal((long)Math.Round(575.114 * (1L << 20)), info.DataProcessed);
        Assert.Equal((long)Math.Round(1.404 * (1L << 30)), info.DataRemaining);
        Assert.Equal(1200, info.DirtyPagesPerSecond);
        Assert.Equal(300, info.ExpectedDowntimeMs);
        var progress = info.ToProgress();
        Assert.Equal(Math.Round(112.036 * (1 << 20) * 8 / 1e6, 1), progress.Mbps);
        Assert.Equal(1200, progress.DirtyPagesRate);
        Assert.InRange(progress.Percent!.Value, 29, 31);
    }

    [Fact]
    public void Domjobinfo_of_old_libvirt_has_sizes_but_no_rates()
    {
        var progress = VirshOutput.ParseJobInfo(VirshSamples.JobInfoOld).ToProgress();

        Assert.Equal((long)Math.Round(2.016 * (1L << 30)), progress.TotalBytes);
        Assert.Equal((long)Math.Round(153.398 * (1L << 20)), progress.TransferredBytes);
        Assert.Equal((long)Math.Round(1.850 * (1L << 30)), progress.RemainingBytes);
        Assert.Null(progress.Mbps);
        Assert.Null(progress.DirtyPagesRate);
    }

    [Fact]
    public void Domjobinfo_rawstats_are_read_as_plain_bytes()
    {
        var info = VirshOutput.ParseJobInfo(VirshSamples.JobInfoRaw);

        Assert.True(info.Active);
        Assert.Equal(2157641728, info.DataTotal);
        Assert.Equal(603044851, info.DataProcessed);
        Assert.Equal(1507868672, info.DataRemaining);
        Assert.Equal(512, info.DirtyPagesPerSecond);
        Assert.Equal(300, info.ExpectedDowntimeMs);
        Assert.Equal(Math.Round(117478953 * 8 / 1e6, 1), info.ToProgress().Mbps);
    }

    [Fact]
    public void Domjobinfo_without_a_job_is_not_active()
    {
        Assert.False(VirshOutput.ParseJobInfo(VirshSamples.JobInfoNone).Active);
    }

    [Theory]
    [InlineData("8388608 KiB", 8L << 30)]
    [InlineData("1.5 GiB", 3L << 29)]
    [InlineData("42 bytes", 42L)]
    [InlineData("0.000 B", 0L)]
    public void Quantities_with_units_become_bytes(string text, long bytes)
    {
        Assert.Equal(bytes, VirshOutput.ParseQuantity(text));
    }
}
