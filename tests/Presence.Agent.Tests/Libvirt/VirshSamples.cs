namespace Presence.Agent.Tests.Libvirt;

/// <summary>
/// virsh's output as it prints it (LC_ALL=C). <see cref="ListNew"/> and <see cref="Dominfo"/> are verbatim from
/// virsh 9.0.0 (Debian 12) against libvirt's built-in test driver; the others follow the layouts of the libvirt
/// versions named, with the numbers of a 2 GiB guest part-way through a migration.
/// </summary>
internal static class VirshSamples
{
    public const string ListNew = """
         Id   Name   State
        ----------------------
         1    test   running

        """;

    /// <summary>libvirt before 4.x: printf("%3s %-30s %s") — one space after a name of 30 characters or more.</summary>
    public const string ListOld = """
         Id    Name                           State
        ----------------------------------------------------
         3     alice-desktop                  running
         -     bob-music                      shut off
         7     carol-desktop                  paused
         -     a-domain-name-longer-than-thirty shut off

        """;

    public const string ListHouse = """
         Id   Name            State
        --------------------------------
         1    alice-desktop   running
         -    bob-music       shut off

        """;

    public const string Dominfo = """
        Id:             1
        Name:           test
        UUID:           6695eb01-f6a4-8304-79aa-97f2502e193f
        OS Type:        linux
        State:          running
        CPU(s):         2
        CPU time:       1795615505.3s
        Max memory:     8388608 KiB
        Used memory:    2097152 KiB
        Persistent:     yes
        Autostart:      disable
        Managed save:   no
        Security model: testSecurity
        Security DOI:   
        Security label: libvirt-test (enforcing)

        """;

    public static string DominfoOf(string name, long maxKib) => $"""
        Id:             -
        Name:           {name}
        UUID:           0d9a44a6-3c9e-4a0e-9d7f-3a0b1f6a0c11
        OS Type:        hvm
        State:          running
        CPU(s):         4
        Max memory:     {maxKib} KiB
        Used memory:    {maxKib} KiB
        Persistent:     yes
        Autostart:      disable
        Managed save:   no

        """;

    /// <summary>libvirt 8/9: with Operation, Memory bandwidth, Dirty rate and Expected downtime.</summary>
    public const string JobInfoNew = """
        Job type:         Unbounded
        Operation:        Outgoing migration
        Time elapsed:     5153         ms
        Data processed:   575.114 MiB
        Data remaining:   1.404 GiB
        Data total:       2.009 GiB
        Memory processed: 575.114 MiB
        Memory remaining: 1.404 GiB
        Memory total:     2.009 GiB
        Memory bandwidth: 112.036 MiB/s
        Dirty rate:       1200         pages/s
        Page size:        4096         bytes
        Iteration:        1
        Postcopy requests: 0
        Constant pages:   367958
        Normal pages:     146368
        Normal data:      571.750 MiB
        Expected downtime: 300          ms
        Setup time:       24           ms

        """;

    /// <summary>libvirt 1.2: no Operation, no bandwidth, no dirty rate.</summary>
    public const string JobInfoOld = """
        Job type:         Unbounded
        Time elapsed:     1500         ms
        Data processed:   153.398 MiB
        Data remaining:   1.850 GiB
        Data total:       2.016 GiB
        Memory processed: 153.398 MiB
        Memory remaining: 1.850 GiB
        Memory total:     2.016 GiB
        Constant pages:   11
        Normal pages:     39217
        Normal data:      153.191 MiB

        """;

    /// <summary><c>virsh domjobinfo --rawstats</c>: the typed parameters as they are, bytes and milliseconds.</summary>
    public const string JobInfoRaw = """
        Job type:         Unbounded

        operation: 3
        time_elapsed: 5153
        downtime: 300
        setup_time: 24
        data_total: 2157641728
        data_processed: 603044851
        data_remaining: 1507868672
        memory_total: 2157641728
        memory_processed: 603044851
        memory_remaining: 1507868672
        memory_constant: 367958
        memory_normal: 146368
        memory_normal_bytes: 599523328
        memory_bps: 117478953
        memory_dirty_rate: 512
        memory_page_size: 4096
        memory_iteration: 1

        """;

    public const string JobInfoNone = """
        Job type:         None

        """;

    /// <summary>A migration of a 2 GiB guest, <paramref name="processedMib"/> sent so far.</summary>
    public static string JobInfoAt(int processedMib) => $"""
        Job type:         Unbounded
        Operation:        Outgoing migration
        Time elapsed:     {processedMib * 9}         ms
        Data processed:   {processedMib}.000 MiB
        Data remaining:   {2048 - processedMib}.000 MiB
        Data total:       2.000 GiB
        Memory bandwidth: 110.000 MiB/s
        Dirty rate:       800          pages/s
        Expected downtime: 120          ms

        """;
}
