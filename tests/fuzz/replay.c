/* Runs a libFuzzer target over every file of a corpus directory (or over
 * single files named on the command line), so the committed corpus is
 * replayed as an ordinary test (under ASan/UBSan in CI) without clang's
 * fuzzer runtime. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    uint8_t *buf = malloc(1 << 20);
    size_t n = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    if (buf) {
        /* Copy to an exact-size allocation so ASan sees overreads. */
        uint8_t *exact = malloc(n ? n : 1);
        if (exact) {
            for (size_t k = 0; k < n; k++)
                exact[k] = buf[k];
            LLVMFuzzerTestOneInput(exact, n);
            free(exact);
        }
        free(buf);
    }
}

int main(int argc, char **argv)
{
    int files = 0;
    for (int i = 1; i < argc; i++) {
        DIR *d = opendir(argv[i]);
        if (!d && errno == ENOTDIR) {
            run_file(argv[i]);
            files++;
            continue;
        }
        if (!d) {
            perror(argv[i]);
            return 1;
        }
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
            run_file(path);
            files++;
        }
        closedir(d);
    }
    printf("replayed %d inputs\n", files);
    return files > 0 ? 0 : 1;
}
