// One source, three uses:
//  * Microsoft.ML.Kare.Trainers.targets compiles it as an inline MSBuild task (RoslynCodeTaskFactory, Type="Class"),
//    so it must stay plain C# against netstandard2.0 with no package dependencies;
//  * the Microsoft.ML.Kare.Trainers assembly compiles it with KARE_ELF_PATCH_NO_MSBUILD defined, which leaves out the
//    MSBuild task class and keeps only the ELF logic: LibTorch/LibTorchSharpFallback.cs uses it at run time where the
//    build step did not run;
//  * the test project reaches that compiled copy (InternalsVisibleTo).
//
// Why: libLibTorchSharp.so (TorchSharp 0.107.0) asks for the symbol version GLIBCXX_3.4.32 for one symbol that
// no relocation uses. Older system libstdc++ (Debian 12, Ubuntu 22.04) stops at GLIBCXX_3.4.30 and the dynamic
// loader refuses the library. Marking that version requirement weak (VER_FLG_WEAK in its Elf64_Vernaux) makes
// the loader accept it. Only copies are changed (the application's output, or a per-user cache), never the package
// cache's file.
#nullable disable

using System.Collections.Generic;
using System.IO;
using System.Text;
using System;

namespace Microsoft.ML.Kare.Build
{
    /// <summary>What <see cref="KareElfVersionPatch.PatchFile"/> did to one file.</summary>
    internal enum KareElfPatchOutcome
    {
        /// <summary>The file does not exist.</summary>
        Missing,
        /// <summary>Not a little-endian ELF64 file, or its version sections are unreadable.</summary>
        NotApplicable,
        /// <summary>The file does not require the version at all.</summary>
        NotRequired,
        /// <summary>Every requirement of the version was already weak.</summary>
        AlreadyWeak,
        /// <summary>The requirement was marked weak; the path now names a new, patched file.</summary>
        Patched,
    }

    /// <summary>Reads and patches the GNU symbol-versioning sections of little-endian ELF64 files.</summary>
    internal static class KareElfVersionPatch
    {
        /// <summary>The version libLibTorchSharp.so asks of libstdc++ that older systems lack.</summary>
        public const string DefaultVersionName = "GLIBCXX_3.4.32";

        /// <summary>The library that defines <see cref="DefaultVersionName"/>.</summary>
        public const string DefaultProviderSoname = "libstdc++.so.6";

        /// <summary>VER_FLG_WEAK: a missing version is only warned about by the dynamic loader.</summary>
        public const ushort VerFlagWeak = 0x2;

        private const uint ShtDynamic = 6;
        private const ulong DtNull = 0;
        private const ulong DtNeeded = 1;
        private const uint ShtGnuVerdef = 0x6ffffffd;
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const int MaxRecords = 1 << 16;

        /// <summary>
        /// File offsets of the vna_flags fields of every Elf64_Vernaux (in SHT_GNU_verneed sections) whose name is
        /// <paramref name="versionName"/>. Null when the image is not a readable little-endian ELF64 file.
        /// </summary>
        public static List<long> FindVersionNeedFlagOffsets(byte[] image, string versionName)
        {
            if (image == null) throw new ArgumentNullException(nameof(image));
            if (versionName == null) throw new ArgumentNullException(nameof(versionName));
            List<Section> sections = ReadSections(image);
            if (sections == null) return null;
            var result = new List<long>();
            foreach (Section verneed in sections)
            {
                if (verneed.Type != ShtGnuVerneed) continue;
                if (verneed.Link >= (uint)sections.Count) return null;
                Section strtab = sections[(int)verneed.Link];
                long end = verneed.Offset + verneed.Size;
                long need = verneed.Offset;
                // sh_info holds the number of Elf64_Verneed records.
                for (uint i = 0; i < verneed.Info && i < MaxRecords; i++)
                {
                    if (need < verneed.Offset || need + 16 > end) return null;
                    ushort count = U16(image, need + 2);
                    long aux = need + U32(image, need + 8);
                    for (uint j = 0; j < count && j < MaxRecords; j++)
                    {
                        if (aux < verneed.Offset || aux + 16 > end) return null;
                        string name = ReadString(image, strtab, U32(image, aux + 8));
                        if (name == null) return null;
                        if (name == versionName) result.Add(aux + 4);
                        uint nextAux = U32(image, aux + 12);
                        if (nextAux == 0) break;
                        aux += nextAux;
                    }
                    uint nextNeed = U32(image, need + 12);
                    if (nextNeed == 0) break;
                    need += nextNeed;
                }
            }
            return result;
        }

        /// <summary>Names of the versions an ELF64 image defines (SHT_GNU_verdef); null when unreadable.</summary>
        public static List<string> ReadVersionDefinitions(byte[] image)
        {
            if (image == null) throw new ArgumentNullException(nameof(image));
            List<Section> sections = ReadSections(image);
            if (sections == null) return null;
            var result = new List<string>();
            foreach (Section verdef in sections)
            {
                if (verdef.Type != ShtGnuVerdef) continue;
                if (verdef.Link >= (uint)sections.Count) return null;
                Section strtab = sections[(int)verdef.Link];
                long end = verdef.Offset + verdef.Size;
                long def = verdef.Offset;
                for (uint i = 0; i < verdef.Info && i < MaxRecords; i++)
                {
                    // Elf64_Verdef: vd_version u16, vd_flags u16, vd_ndx u16, vd_cnt u16, vd_hash u32, vd_aux u32, vd_next u32.
                    if (def < verdef.Offset || def + 20 > end) return null;
                    long aux = def + U32(image, def + 12);
                    // The first Elf64_Verdaux {vda_name u32, vda_next u32} names the version.
                    if (aux < verdef.Offset || aux + 8 > end) return null;
                    string name = ReadString(image, strtab, U32(image, aux));
                    if (name == null) return null;
                    result.Add(name);
                    uint next = U32(image, def + 16);
                    if (next == 0) break;
                    def += next;
                }
            }
            return result;
        }

        /// <summary>
        /// The libraries an ELF64 image names as DT_NEEDED in its dynamic section(s), in order; null when unreadable.
        /// </summary>
        public static List<string> ReadNeededLibraries(byte[] image)
        {
            if (image == null) throw new ArgumentNullException(nameof(image));
            List<Section> sections = ReadSections(image);
            if (sections == null) return null;
            var result = new List<string>();
            foreach (Section dynamic in sections)
            {
                if (dynamic.Type != ShtDynamic) continue;
                if (dynamic.Link >= (uint)sections.Count) return null;
                Section strtab = sections[(int)dynamic.Link];
                // Elf64_Dyn: d_tag i64, d_val u64; the table ends at DT_NULL.
                for (long entry = dynamic.Offset; entry + 16 <= dynamic.Offset + dynamic.Size; entry += 16)
                {
                    ulong tag = U64(image, entry);
                    if (tag == DtNull) break;
                    if (tag != DtNeeded) continue;
                    ulong index = U64(image, entry + 8);
                    if (index > uint.MaxValue) return null;
                    string name = ReadString(image, strtab, (uint)index);
                    if (name == null) return null;
                    result.Add(name);
                }
            }
            return result;
        }

        /// <summary>The vna_flags values at the given offsets.</summary>
        public static ushort[] ReadFlags(byte[] image, IList<long> flagOffsets)
        {
            var flags = new ushort[flagOffsets.Count];
            for (int i = 0; i < flags.Length; i++) flags[i] = U16(image, flagOffsets[i]);
            return flags;
        }

        /// <summary>
        /// Sets VER_FLG_WEAK on every requirement of <paramref name="versionName"/> in the image (in memory).
        /// Returns how many flags changed, or -1 when the image is not a readable ELF64 file.
        /// </summary>
        public static int MarkVersionNeedWeak(byte[] image, string versionName)
        {
            List<long> offsets = FindVersionNeedFlagOffsets(image, versionName);
            if (offsets == null) return -1;
            int changed = 0;
            foreach (long offset in offsets)
            {
                ushort flags = U16(image, offset);
                if ((flags & VerFlagWeak) != 0) continue;
                flags |= VerFlagWeak;
                image[offset] = (byte)flags;
                image[offset + 1] = (byte)(flags >> 8);
                changed++;
            }
            return changed;
        }

        /// <summary>
        /// Marks the requirement of <paramref name="versionName"/> weak in the file at <paramref name="path"/>.
        /// The path is never written through: the patched bytes go to a new file in the same directory, which then
        /// atomically replaces the path (a hard link or symbolic link into a package cache is thereby replaced by a
        /// file of its own, and the cache's file is left as it was). The new file keeps the original's permissions
        /// and last-write time, so incremental copy steps still see it as up to date.
        /// </summary>
        public static KareElfPatchOutcome PatchFile(string path, string versionName)
        {
            if (path == null) throw new ArgumentNullException(nameof(path));
            if (!File.Exists(path)) return KareElfPatchOutcome.Missing;
            byte[] original = File.ReadAllBytes(path);
            List<long> offsets = FindVersionNeedFlagOffsets(original, versionName);
            if (offsets == null) return KareElfPatchOutcome.NotApplicable;
            if (offsets.Count == 0) return KareElfPatchOutcome.NotRequired;
            bool allWeak = true;
            foreach (ushort flags in ReadFlags(original, offsets)) allWeak &= (flags & VerFlagWeak) != 0;
            if (allWeak) return KareElfPatchOutcome.AlreadyWeak;

            string fullPath = Path.GetFullPath(path);
            string directory = Path.GetDirectoryName(fullPath);
            string temp = Path.Combine(directory, "." + Path.GetFileName(fullPath) + ".kare-" + Guid.NewGuid().ToString("N") + ".tmp");
            try
            {
                // File.Copy reads through a link and creates a new file (keeping the permissions); only that new
                // file is written to. Its bytes are parsed again so that a concurrent change cannot misplace the patch.
                File.Copy(fullPath, temp, false);
                // The last-write time of the file's content (for a symbolic link, of its target, which File.Copy has
                // given the copy): keeping it makes MSBuild's Copy (SkipUnchangedFiles) see the output as up to date.
                DateTime lastWrite = LastWriteTimeOfContent(fullPath, temp);
                using (var stream = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
                {
                    var copy = new byte[stream.Length];
                    ReadExactly(stream, copy);
                    if (MarkVersionNeedWeak(copy, versionName) <= 0) return KareElfPatchOutcome.NotApplicable;
                    foreach (long offset in FindVersionNeedFlagOffsets(copy, versionName))
                    {
                        stream.Position = offset;
                        stream.Write(copy, (int)offset, 2);
                    }
                    stream.Flush(true);
                }
                File.SetLastWriteTimeUtc(temp, lastWrite);
                // On Unix this is rename(2): atomic, and it replaces a link itself rather than what it points to.
                File.Replace(temp, fullPath, null);
                return KareElfPatchOutcome.Patched;
            }
            finally
            {
                if (File.Exists(temp)) File.Delete(temp);
            }
        }

        private static DateTime LastWriteTimeOfContent(string path, string copy)
        {
            var info = new FileInfo(path);
            // A symbolic link's own time is not its target's; File.Copy gives the copy the target's time on Unix.
            if ((info.Attributes & FileAttributes.ReparsePoint) != 0) return File.GetLastWriteTimeUtc(copy);
            return info.LastWriteTimeUtc;
        }

        /// <summary>
        /// The file the current process would use for the library <paramref name="soname"/>: the one already
        /// mapped into this process (the dotnet host loads libstdc++), else the first found in LD_LIBRARY_PATH and
        /// the usual library directories. Null when none is found.
        /// </summary>
        public static string FindSystemLibrary(string soname)
        {
            try
            {
                if (File.Exists("/proc/self/maps"))
                {
                    string stem = soname;
                    int so = soname.IndexOf(".so", StringComparison.Ordinal);
                    if (so > 0) stem = soname.Substring(0, so + 3);
                    foreach (string line in File.ReadAllLines("/proc/self/maps"))
                    {
                        int slash = line.IndexOf('/');
                        if (slash < 0) continue;
                        string mapped = line.Substring(slash).Trim();
                        string name = Path.GetFileName(mapped);
                        if ((name == soname || name.StartsWith(stem + ".", StringComparison.Ordinal)) && File.Exists(mapped))
                            return mapped;
                    }
                }
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }

            var directories = new List<string>();
            string ldLibraryPath = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
            if (!string.IsNullOrEmpty(ldLibraryPath)) directories.AddRange(ldLibraryPath.Split(new[] { ':' }, StringSplitOptions.RemoveEmptyEntries));
            foreach (string root in new[] { "/lib", "/usr/lib", "/usr/local/lib" })
            {
                try
                {
                    if (Directory.Exists(root))
                        foreach (string multiarch in Directory.GetDirectories(root, "*-linux-gnu*")) directories.Add(multiarch);
                }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
            directories.AddRange(new[] { "/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib" });
            foreach (string directory in directories)
            {
                string candidate = Path.Combine(directory, soname);
                if (File.Exists(candidate)) return candidate;
            }
            return null;
        }

        /// <summary>Whether the ELF library at <paramref name="libraryPath"/> defines the version <paramref name="versionName"/>.</summary>
        public static bool DefinesVersion(string libraryPath, string versionName)
        {
            byte[] image = File.ReadAllBytes(libraryPath);
            List<string> definitions = ReadVersionDefinitions(image);
            if (definitions != null && definitions.Count > 0) return definitions.Contains(versionName);
            // Unreadable version sections: fall back to looking for the name as a string of the file.
            byte[] needle = Encoding.ASCII.GetBytes("\0" + versionName + "\0");
            for (int i = 0; i + needle.Length <= image.Length; i++)
            {
                int k = 0;
                while (k < needle.Length && image[i + k] == needle[k]) k++;
                if (k == needle.Length) return true;
            }
            return false;
        }

        private struct Section
        {
            public uint Type;
            public long Offset;
            public long Size;
            public uint Link;
            public uint Info;
        }

        private static List<Section> ReadSections(byte[] image)
        {
            // e_ident: 0x7f 'E' 'L' 'F', EI_CLASS = 2 (ELF64), EI_DATA = 1 (little-endian).
            if (image.Length < 64 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F') return null;
            if (image[4] != 2 || image[5] != 1) return null;
            ulong shoff = U64(image, 0x28);
            ushort shentsize = U16(image, 0x3a);
            long shnum = U16(image, 0x3c);
            if (shoff == 0 || shentsize < 64 || shoff > (ulong)image.Length) return null;
            if (shnum == 0)
            {
                // Extended numbering: the count is in sh_size of section 0.
                if ((long)shoff + 64 > image.Length) return null;
                shnum = (long)U64(image, (long)shoff + 32);
            }
            if (shnum > MaxRecords || (long)shoff + shnum * shentsize > image.Length) return null;
            var sections = new List<Section>((int)shnum);
            for (long i = 0; i < shnum; i++)
            {
                long header = (long)shoff + i * shentsize;
                var section = new Section
                {
                    Type = U32(image, header + 4),
                    Offset = (long)U64(image, header + 24),
                    Size = (long)U64(image, header + 32),
                    Link = U32(image, header + 40),
                    Info = U32(image, header + 44),
                };
                bool hasBytes = section.Type != 8; // SHT_NOBITS occupies no file bytes.
                if (hasBytes && (section.Offset < 0 || section.Size < 0 || section.Offset > image.Length || section.Size > image.Length - section.Offset))
                {
                    section.Offset = 0;
                    section.Size = 0;
                }
                sections.Add(section);
            }
            return sections;
        }

        private static string ReadString(byte[] image, Section strtab, uint index)
        {
            long start = strtab.Offset + index;
            long end = strtab.Offset + strtab.Size;
            if (index >= strtab.Size) return null;
            long zero = start;
            while (zero < end && image[zero] != 0) zero++;
            if (zero >= end) return null;
            return Encoding.ASCII.GetString(image, (int)start, (int)(zero - start));
        }

        private static void ReadExactly(Stream stream, byte[] buffer)
        {
            int read = 0;
            while (read < buffer.Length)
            {
                int n = stream.Read(buffer, read, buffer.Length - read);
                if (n <= 0) throw new EndOfStreamException();
                read += n;
            }
        }

        private static ushort U16(byte[] b, long o) => (ushort)(b[o] | (b[o + 1] << 8));

        private static uint U32(byte[] b, long o) => (uint)(b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24));

        private static ulong U64(byte[] b, long o) => U32(b, o) | ((ulong)U32(b, o + 4) << 32);
    }

#if !KARE_ELF_PATCH_NO_MSBUILD
    /// <summary>
    /// MSBuild task: marks the GLIBCXX_3.4.32 requirement of each given libLibTorchSharp.so weak, unless the
    /// system libstdc++ already provides that version (or the build does not run on Linux), and logs one message.
    /// </summary>
    public sealed class KareMarkSymbolVersionWeak : Microsoft.Build.Utilities.Task
    {
        /// <summary>The output copies of libLibTorchSharp.so to patch.</summary>
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Files { get; set; }

        /// <summary>The version requirement to mark weak.</summary>
        public string VersionName { get; set; } = KareElfVersionPatch.DefaultVersionName;

        /// <summary>The library that should provide the version.</summary>
        public string ProviderSoname { get; set; } = KareElfVersionPatch.DefaultProviderSoname;

        /// <summary>Patch even on non-Linux hosts or where the system library provides the version.</summary>
        public bool Force { get; set; }

        /// <summary>The files this run replaced with patched copies.</summary>
        [Microsoft.Build.Framework.Output]
        public Microsoft.Build.Framework.ITaskItem[] PatchedFiles { get; set; }

        public override bool Execute()
        {
            const string prefix = "Microsoft.ML.Kare: ";
            var patched = new List<Microsoft.Build.Framework.ITaskItem>();
            PatchedFiles = patched.ToArray();
            if (Files == null || Files.Length == 0) return true;
            string reason = "forced";
            if (!Force)
            {
                if (!System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Linux))
                {
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal, prefix + "not on Linux, {0} left as it is.", Describe(Files));
                    return true;
                }
                string system = KareElfVersionPatch.FindSystemLibrary(ProviderSoname);
                if (system != null && KareElfVersionPatch.DefinesVersion(system, VersionName))
                {
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal, prefix + "{0} provides {1}, {2} left as it is.", system, VersionName, Describe(Files));
                    return true;
                }
                reason = system == null ? ProviderSoname + " not found" : system + " lacks it";
            }

            var done = new List<string>();
            foreach (Microsoft.Build.Framework.ITaskItem item in Files)
            {
                string path = item.GetMetadata("FullPath");
                KareElfPatchOutcome outcome;
                try
                {
                    outcome = KareElfVersionPatch.PatchFile(path, VersionName);
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    Log.LogError(null, "KARE001", null, path, 0, 0, 0, 0,
                        prefix + "could not mark {0} weak in {1}: {2} (TorchSharp will not load on this system; set KarePatchLibTorchSharp=false to skip this step).",
                        VersionName, path, e.Message);
                    return false;
                }
                if (outcome == KareElfPatchOutcome.Patched) patched.Add(item);
                done.Add(path + ": " + Describe(outcome));
            }
            PatchedFiles = patched.ToArray();
            Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal, prefix + "{0} requirement of libLibTorchSharp.so ({1}): {2}.", VersionName, reason, string.Join("; ", done));
            return true;
        }

        private static string Describe(Microsoft.Build.Framework.ITaskItem[] files)
        {
            var paths = new List<string>();
            foreach (Microsoft.Build.Framework.ITaskItem item in files) paths.Add(item.GetMetadata("FullPath"));
            return string.Join(", ", paths);
        }

        private static string Describe(KareElfPatchOutcome outcome)
        {
            switch (outcome)
            {
                case KareElfPatchOutcome.Patched: return "marked weak (patched copy replaced the output file)";
                case KareElfPatchOutcome.AlreadyWeak: return "already weak";
                case KareElfPatchOutcome.NotRequired: return "not required, nothing to do";
                case KareElfPatchOutcome.Missing: return "file not present, nothing to do";
                default: return "not a little-endian ELF64 file, left as it is";
            }
        }
    }
#endif
}
