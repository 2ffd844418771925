// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;
import junit.framework.AssertionFailedError;
import junit.framework.Test;
import junit.framework.TestCase;
import junit.framework.TestFailure;
import junit.framework.TestResult;
import junit.framework.TestSuite;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;

/**
 * Runs a JUnit 3 {@link TestSuite} (as guava-testlib builds them) as JUnit 5 dynamic tests: a
 * container per suite, a dynamic test per test case that rethrows the case's first failure or
 * error.
 */
final class JUnit3Bridge {
    private JUnit3Bridge() {}

    /** The dynamic node for {@code test}: a container for a suite, a test for a test case. */
    static DynamicNode toDynamic(Test test) {
        if (test instanceof TestSuite) {
            TestSuite suite = (TestSuite) test;
            List<Test> children = Collections.list(suite.tests());
            String name = suite.getName() == null ? suite.getClass().getSimpleName() : suite.getName();
            return DynamicContainer.dynamicContainer(name, children.stream().map(JUnit3Bridge::toDynamic));
        }
        String name = test instanceof TestCase ? ((TestCase) test).getName() : test.toString();
        return DynamicTest.dynamicTest(name == null ? test.toString() : name, () -> run(test));
    }

    /** The dynamic nodes of a suite's children (so the suite itself adds no extra level). */
    static Stream<DynamicNode> children(TestSuite suite) {
        return Collections.list(suite.tests()).stream().map(JUnit3Bridge::toDynamic);
    }

    /** Counts the test cases in {@code test}. */
    static int countCases(Test test) {
        return test.countTestCases();
    }

    private static void run(Test test) throws Throwable {
        TestResult result = new TestResult();
        test.run(result);
        List<TestFailure> problems = new ArrayList<>();
        problems.addAll(Collections.list(result.errors()));
        problems.addAll(Collections.list(result.failures()));
        if (problems.isEmpty()) {
            return;
        }
        Throwable first = problems.get(0).thrownException();
        if (first instanceof AssertionFailedError) {
            AssertionError converted = new AssertionError(test + ": " + first.getMessage(), first.getCause());
            converted.setStackTrace(first.getStackTrace());
            for (int i = 1; i < problems.size(); i++) {
                converted.addSuppressed(problems.get(i).thrownException());
            }
            throw converted;
        }
        for (int i = 1; i < problems.size(); i++) {
            first.addSuppressed(problems.get(i).thrownException());
        }
        throw first;
    }
}
