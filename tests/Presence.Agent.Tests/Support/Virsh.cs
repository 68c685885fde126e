using Presence.Agent.Processes;

namespace Presence.Agent.Tests.Support;

public static class Virsh
{
    /// <summary>Fails the test, saying what to install, when virsh is missing: a test that checked nothing must not pass.</summary>
    public static void Require() =>
        Assert.True(ProcessRunner.Instance.Exists("virsh"),
            "virsh is not installed; these tests need it (apt-get install libvirt-clients, as .ci/run does)");
}
