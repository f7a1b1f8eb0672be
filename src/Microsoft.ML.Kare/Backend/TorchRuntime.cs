using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace Microsoft.ML.Kare.Backend;

/// <summary>
/// Process-wide settings that must be in place before libtorch is first loaded.
/// </summary>
/// <remarks>
/// libtorch's OpenMP threads busy-wait between parallel regions by default. When the machine is shared (other
/// processes, parallel builds, several fits at once) the spinning threads starve each other: a KARE fit on the paper's
/// simulation took 49.6 s instead of 9.0 s with both cores busy elsewhere. With passive waiting it took 18.1 s loaded
/// and 11.6 s quiet. So, unless the user chose a policy, <c>OMP_WAIT_POLICY=PASSIVE</c> is set in the native
/// environment, which OpenMP reads once, when libtorch loads. .NET's Environment.SetEnvironmentVariable does not
/// reach the native environment on Unix, hence libc's setenv. <c>MKL_CBWR=AUTO</c> is set the same way, so that training
/// with the same seed, options and thread count is bit-identical.
/// <para>
/// glibc's allocator gives freed blocks of a few megabytes back to the kernel (its trim and mmap thresholds adapt
/// upwards only to 2 × and 1 × the largest block freed), and every page of the next block of that size then faults in
/// afresh. On a virtual machine that costs about 10 µs per 4 KB page: an 800 × 800 float64 temporary (1,250 pages)
/// took 10–18 ms to touch against 0.3 ms when reused, as long as a matrix product of that size, and a KARE step makes
/// several such temporaries. So, unless the user tuned the allocator (any <c>MALLOC_*</c> variable or
/// <c>GLIBC_TUNABLES</c>), the trim threshold is raised and the mmap threshold fixed at glibc's largest (32 MB) while
/// training; <see cref="ReleaseFreedMemory"/> hands the freed memory back to the kernel when a fit ends.
/// </para>
/// </remarks>
internal static class TorchRuntime
{
    private const string WaitPolicy = "OMP_WAIT_POLICY";
    private const string Reproducibility = "MKL_CBWR";
    private const int TrimThresholdOption = -1;  // glibc's M_TRIM_THRESHOLD
    private const int MmapThresholdOption = -3;  // glibc's M_MMAP_THRESHOLD
    private const int LargestMmapThreshold = 32 << 20; // glibc's upper bound on 64-bit systems
    private static int _initialized;

    /// <summary>Call before the first use of TorchSharp in the process; later calls do nothing.</summary>
    public static void Initialize()
    {
        if (Interlocked.Exchange(ref _initialized, 1) == 1)
            return;
        if (OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable(WaitPolicy) is null)
            SetNativeEnvironmentVariable(WaitPolicy, "PASSIVE");
        // MKL picks kernels by memory alignment, so two fits with the same seed differed by ~4e-13 (even on one thread);
        // conditional numerical reproducibility on the CPU's own code path makes them bit-identical.
        if (OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable(Reproducibility) is null)
            SetNativeEnvironmentVariable(Reproducibility, "AUTO");
        if (OperatingSystem.IsLinux() && !AllocatorTunedByUser())
            KeepFreedMemoryForReuse();
    }

    /// <summary>
    /// Returns the memory freed by a finished fit to the kernel (glibc's malloc_trim), which the thresholds set in
    /// <see cref="Initialize"/> keep for reuse while training. Does nothing off glibc or when the user tuned the allocator.
    /// </summary>
    public static unsafe void ReleaseFreedMemory()
    {
        if (Volatile.Read(ref _allocatorTuned) == 0 || !TryGetLibcExport("malloc_trim", out IntPtr mallocTrim))
            return;
        ((delegate* unmanaged<nuint, int>)mallocTrim)(0);
    }

    private static int _allocatorTuned;

    private static unsafe void KeepFreedMemoryForReuse()
    {
        if (!TryGetLibcExport("mallopt", out IntPtr mallopt))
            return;
        var set = (delegate* unmanaged<int, int, int>)mallopt;
        if (set(MmapThresholdOption, LargestMmapThreshold) == 1 && set(TrimThresholdOption, int.MaxValue) == 1)
            Volatile.Write(ref _allocatorTuned, 1);
    }

    private static bool AllocatorTunedByUser()
    {
        foreach (string name in System.Linq.Enumerable.Cast<string>(Environment.GetEnvironmentVariables().Keys))
        {
            if (name.StartsWith("MALLOC_", StringComparison.Ordinal) || name == "GLIBC_TUNABLES")
                return true;
        }
        return false;
    }

    /// <summary>Whether the loaded libtorch can use a CUDA device (false with the CPU build this package ships).</summary>
    public static bool IsCudaAvailable()
    {
        Initialize();
        return TorchSharp.torch.cuda.is_available();
    }

    /// <summary>The variable as the native environment (what native libraries see) holds it, or null.</summary>
    internal static unsafe string? GetNativeEnvironmentVariable(string name)
    {
        if (!TryGetLibcExport("getenv", out IntPtr getenv))
            return null;
        IntPtr nameUtf8 = Marshal.StringToCoTaskMemUTF8(name);
        try
        {
            IntPtr value = ((delegate* unmanaged<IntPtr, IntPtr>)getenv)(nameUtf8);
            return value == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(value);
        }
        finally
        {
            Marshal.FreeCoTaskMem(nameUtf8);
        }
    }

    private static unsafe void SetNativeEnvironmentVariable(string name, string value)
    {
        if (!TryGetLibcExport("setenv", out IntPtr setenv))
            return;
        IntPtr nameUtf8 = Marshal.StringToCoTaskMemUTF8(name);
        IntPtr valueUtf8 = Marshal.StringToCoTaskMemUTF8(value);
        try
        {
            // overwrite = 0: never replace a value set natively by the host.
            ((delegate* unmanaged<IntPtr, IntPtr, int, int>)setenv)(nameUtf8, valueUtf8, 0);
        }
        finally
        {
            Marshal.FreeCoTaskMem(nameUtf8);
            Marshal.FreeCoTaskMem(valueUtf8);
        }
    }

    private static bool TryGetLibcExport(string name, out IntPtr address)
    {
        address = IntPtr.Zero;
        return NativeLibrary.TryLoad("libc.so.6", out IntPtr libc) && NativeLibrary.TryGetExport(libc, name, out address);
    }
}
