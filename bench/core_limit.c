// The floor for bench/FuturesBench: the same no-op submit -> result with the
// least a blocking thread pool can do in C. One mutex-protected FIFO served by
// 4 threads (sleeping on a condition variable when it is empty), one small
// future per item (a done flag a waiter sleeps on); no allocation per item
// beyond the future, no cancellation, no slots, no callbacks.
// Usage: core_limit COUNT   (prints items per second, as futures-bench does)
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct future {
    long value;
    int done;
    int waited;  // a reader sleeps on `finished` for this future
} future;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER;      // queue not empty
static pthread_cond_t finished = PTHREAD_COND_INITIALIZER;  // a waited future is done
static future **queue;
static long head, tail, sleeping;
static int stopping;

static void *worker(void *unused) {
    (void)unused;
    pthread_mutex_lock(&lock);
    for (;;) {
        while (head == tail && !stopping) { sleeping++; pthread_cond_wait(&work, &lock); sleeping--; }
        if (head == tail) break;
        future *f = queue[head++];
        pthread_mutex_unlock(&lock);
        long value = f->value;  // the no-op work: return its argument
        pthread_mutex_lock(&lock);
        f->value = value;
        f->done = 1;
        if (f->waited) pthread_cond_broadcast(&finished);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(int argc, char **argv) {
    long count = argc > 1 ? atol(argv[1]) : 200000;
    queue = malloc(sizeof *queue * (size_t)count);
    future **futures = malloc(sizeof *futures * (size_t)count);
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) pthread_create(&threads[i], NULL, worker, NULL);
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long i = 0; i < count; i++) {
        future *f = calloc(1, sizeof *f);
        f->value = i;
        futures[i] = f;
        pthread_mutex_lock(&lock);
        queue[tail++] = f;
        if (sleeping) pthread_cond_signal(&work);
        pthread_mutex_unlock(&lock);
    }
    long sum = 0;
    for (long i = 0; i < count; i++) {
        future *f = futures[i];
        pthread_mutex_lock(&lock);
        while (!f->done) { f->waited = 1; pthread_cond_wait(&finished, &lock); }
        pthread_mutex_unlock(&lock);
        sum += f->value;
        free(f);
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    pthread_mutex_lock(&lock);
    stopping = 1;
    pthread_cond_broadcast(&work);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < 4; i++) pthread_join(threads[i], NULL);
    double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    printf("c %ld items/s (%ld items, checksum %ld)\n", (long)((double)count / seconds), count, sum);
    return 0;
}
