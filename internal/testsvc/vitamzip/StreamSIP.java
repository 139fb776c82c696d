// Reads SIPs the way VITAM's workspace does: one pass over the upload stream with Apache
// commons-compress's ZipArchiveInputStream in its default settings (VITAM 7.0.1 builds it through
// ArchiveStreamFactory, which keeps them), never through the central directory. A STORED entry
// with a data descriptor, which the default refuses, fails here exactly as it fails VITAM's first
// ingest step. For each SIP it prints one line per entry ("E <size> <sha256hex> <name>"), the
// root manifest VITAM would pick ("M <name>"), then "OK <path>" or "FAIL <path>\t<message>".
import java.io.BufferedInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.util.regex.Pattern;

import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveInputStream;

public class StreamSIP {
    // VITAM's manifest name check (MANIFEST_FILE_NAME_CHECK).
    static final Pattern MANIFEST = Pattern.compile("^([a-zA-Z0-9_\\-]{0,56}[_-]{1}){0,1}(manifest.xml)\\b");

    public static void main(String[] args) throws Exception {
        int failed = 0;
        byte[] buf = new byte[1 << 16];
        for (String path : args) {
            System.out.println("SIP " + path);
            try (InputStream in = new BufferedInputStream(Files.newInputStream(Paths.get(path)));
                 ZipArchiveInputStream zin = new ZipArchiveInputStream(in)) {
                int roots = 0;
                String manifest = null;
                ZipArchiveEntry e;
                while ((e = zin.getNextZipEntry()) != null) {
                    MessageDigest md = MessageDigest.getInstance("SHA-256");
                    long size = 0;
                    int n;
                    while ((n = zin.read(buf)) > 0) {
                        md.update(buf, 0, n);
                        size += n;
                    }
                    if (e.isDirectory()) {
                        continue;
                    }
                    StringBuilder hex = new StringBuilder();
                    for (byte b : md.digest()) {
                        hex.append(String.format("%02x", b));
                    }
                    System.out.println("E " + size + " " + hex + " " + e.getName());
                    if (!e.getName().contains("/")) {
                        roots++;
                        if (MANIFEST.matcher(e.getName()).find()) {
                            manifest = e.getName();
                        }
                    }
                }
                if (manifest == null) {
                    throw new Exception("no root entry matches VITAM's manifest name pattern");
                }
                if (roots > 1) {
                    throw new Exception("MORE_THAN_ONE_MANIFEST: " + roots + " files at the root");
                }
                System.out.println("M " + manifest);
                System.out.println("OK " + path);
            } catch (Exception ex) {
                failed++;
                System.out.println("FAIL " + path + "\t" + String.valueOf(ex.getMessage()).replace('\n', ' '));
            }
        }
        System.exit(failed == 0 ? 0 : 1);
    }
}
